"""Loading SNANA simulation output (HEAD/PHOT FITS pairs + truth DUMP) into the ELAsTiCC2 tables.

``reader`` reads and checks the files, ``rows`` maps them onto table rows, ``loader`` writes one
file pair per transaction from worker processes, ``runner`` plans and drives a whole load.
"""
