"""Bulk import of households and members from the county's spreadsheets (CSV or XLSX), as a background job."""
