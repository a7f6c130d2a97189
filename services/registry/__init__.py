"""Registry: the household registry (建档立卡 archive): regions, households, members, helpers."""
