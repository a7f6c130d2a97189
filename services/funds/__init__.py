"""Funds: 财政专项扶贫资金, projects, disbursement, ledger."""
