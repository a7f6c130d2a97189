"""帮扶: helpers (帮扶责任人), helping units, village work teams, pairings (结对) and the contact log."""
