"""The region tree (区划): provinces down to villages, loading a region file, villager groups (村民小组)."""
