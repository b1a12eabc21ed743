"""The telephony plane: how the control plane talks to a telephony engine (Kamailio, a fake)."""
