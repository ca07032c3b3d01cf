"""QQ HTTP v1.1: the codec (wire), the client, the simulator and a terminal client."""
