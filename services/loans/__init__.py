"""Loans: 扶贫小额信贷 microloans, subsidies, risk compensation."""
