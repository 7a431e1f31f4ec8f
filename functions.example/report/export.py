"""Script report__export: a function that chooses its HTTP answer (DFF.RESP)."""

ROWS = [('city', 'visits'), ('Berlin', 12), ('Lisbon', 7)]


@DFF.API('Visits by city, as JSON or as a CSV download')
def export(fmt='json'):
    if fmt == 'csv':
        text = ''.join('%s,%s\n' % row for row in ROWS)
        return DFF.RESP(text, content_type='csv', download='visits.csv')
    rows = [dict(zip(ROWS[0], row)) for row in ROWS[1:]]
    return DFF.RESP({'rows': rows}, status_code=200, headers={'Cache-Control': 'no-store'})
