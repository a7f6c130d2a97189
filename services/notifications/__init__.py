"""Notifications: SMS reminders to helpers (帮扶责任人) and households."""
