"""Reconditioning by the workshops, OS licences, rejects to D3E recycling."""
