"""Voicemail: one box per user, messages in new/save/trash, deposited by the telephony plane."""
