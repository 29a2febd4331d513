"""casework: candidates, cases and 見守り情報 (mimamori-jōhō: observations staff enter by hand)."""
