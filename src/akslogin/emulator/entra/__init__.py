"""Emulated Microsoft Entra ID: the authority (discovery, keys, every token grant), its sign-in pages,
ADFS, and Microsoft Graph."""
