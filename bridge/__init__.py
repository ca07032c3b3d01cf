"""A Matrix bridge for QQ's HTTP protocol v1.1."""
