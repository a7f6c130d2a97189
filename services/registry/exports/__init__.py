"""Exports: 一户一卡 household cards (PDF, XLSX), 一村一册 village registers and township / county rolls."""
