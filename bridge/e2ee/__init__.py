"""End-to-bridge encryption: the bot's own device, which decrypts and encrypts Matrix events.

``encryption.py`` holds the device (mautrix.crypto's OlmMachine on the bridge database);
``sending.py`` is the one way the bridge sends a message event, encrypted where the room is.
"""

from .encryption import PICKLE_KEY_PURPOSE, Encryption
from .sending import send_message

__all__ = ["PICKLE_KEY_PURPOSE", "Encryption", "send_message"]
