// BLS12-381: see issue 3.
