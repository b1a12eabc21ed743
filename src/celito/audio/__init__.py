"""Audio files: greetings, music on hold and hold messages, stored as files on disk."""
