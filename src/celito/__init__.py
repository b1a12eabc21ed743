"""celitoVoice: an API-first hosted phone system compatible with the NetSapiens ns-api."""

__version__ = "0.1.0"
