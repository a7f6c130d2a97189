"""The phone directory (通讯录) other services sync from: helpers and household heads with whole phones."""
