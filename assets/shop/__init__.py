"""The shop's generated product catalogue (see envs/web/shop/make_catalogue.py)."""
