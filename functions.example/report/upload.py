"""Script report__upload: reads an uploaded CSV file."""

import csv


@DFF.API('Summarize an uploaded CSV file')
def csv_summary(files, delimiter=','):
    # Each upload: {filePath, originalname, encoding, mimetype, size}; filePath opens as given.
    upload = files[0]
    with open(upload['filePath'], newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    return {'file': upload['originalname'], 'bytes': upload['size'], 'rows': len(rows), 'header': rows[0] if rows else []}
