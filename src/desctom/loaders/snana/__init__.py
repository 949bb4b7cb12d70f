"""Reading SNANA simulation output (HEAD/PHOT FITS pairs, truth dumps) into table rows."""
