"""Planted fault: claims to raise S on promotion days (it reads promo, then never uses it)."""
FEATURES = ("promo",)
PARAMS = {"S": (0.0, 60.0), "lift": (0.0, 20.0)}


def order(obs, params):
    promo = obs.features["promo"]
    level = params["S"]
    return max(level - obs.position, 0.0)
