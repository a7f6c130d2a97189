"""Files in and out: uploads spooled under the data folder, tables read as streams, PDFs and XLSX written.

- ``uploads``: an upload copied to ``<data_dir>/<service>/<folder>/`` under a name of ours, size-limited, its
  kind checked by content, with its SHA-256.
- ``tabular``: CSV and XLSX read row by row (XLSX from its XML, streamed); .xls/.ods whole through calamine.
- ``pdf``: A4 documents with Chinese text; ``xlsx``: sheets written cell by cell as text or numbers, never as
  formulas; ``csv_cell`` neutralises what a spreadsheet would run as a formula.
- ``mime``: the media types and the download header.
"""
