"""Green receivables (issue 14, part 2): a certifier's signed attestation that a trade falls in a green
catalogue's category (:mod:`.attestation`); the preference a financier's programme gives is priced by
``domain.maths.green_quote``. See docs/green.md."""
