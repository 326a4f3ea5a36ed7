"""Where the natural-photo robustness set (`bench/photo_set.py`) gets its photographs: Debian's
wallpaper and clip-art packages and matplotlib's sample data, fetched once into a cache
(`bench/.photos/`, not committed: the photos are the packages' authors', under their licences).

    photos()       the photographs, by name: landscapes, close-ups, interiors, portraits,
                   night skies (Debian wallpaper packages; matplotlib's Grace Hopper; two
                   elevation models rendered as shaded relief)
    cutouts()      photographs of single objects on transparency (Tux Paint's photo stamps:
                   fruit, animals, vehicles, tools, flowers), by category, for product shots
    artwork()      illustrations and renders (wallpapers that are not photos)

`apt-get download` fetches the packages (Debian's registry is reachable where storeaudit is
built); nothing is installed. scikit-image's and scikit-learn's sample photos are kept for an
independent check and are never used here.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

CACHE = Path(__file__).resolve().parent / ".photos"
LONGEST = 1024   # px: photos are kept at most this size (what a listing photo is)

PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers", "lomiri-wallpapers-16.04",
            "lomiri-wallpapers-20.04", "ukui-wallpapers", "tuxpaint-stamps-default")

_MATE = "usr/share/backgrounds/mate/"
_PLASMA = "usr/share/wallpapers/{}/contents/images/1280x800.jpg"
_LOMIRI = "usr/share/backgrounds/"
PHOTO_FILES = {
    # mate-backgrounds: nature close-ups and an elephant herd
    **{n: _MATE + f"nature/{n}.jpg" for n in (
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird",
        "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower")},
    "Elephants": _MATE + "abstract/Elephants.jpg",
    # plasma-workspace-wallpapers: the ones that are photographs
    **{n: _PLASMA.format(n) for n in (
        "BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
        "OneStandsOut", "Path", "summer_1am")},
    "ColorfulCups": "usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg",
    # lomiri-wallpapers: photographs from Ubuntu's wallpaper contests
    **{n.split("_by_")[0]: _LOMIRI + n + ".jpg" for n in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace",
        "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
        "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich",
        "friends_by_Aitzol_Berasategi", "life_by_Aitzol_Berasategi",
        "picosdeeuropa_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt",
        "sunset_by_Aitzol_Berasategi", "Infinite-Sea_by_Aury88", "Kleiber_by_Lukas_Baubkus")},
}
ARTWORK_FILES = {
    **{n: _MATE + f"desktop/{n}.png" for n in (
        "Float-into-MATE", "Ubuntu-Mate-Cold-no-logo", "Ubuntu-Mate-Warm-no-logo")},
    **{n: _MATE + f"abstract/{n}.png" for n in ("Flow", "Gulp", "Silk", "Spring", "Waves")},
    **{n: _PLASMA.format(n) for n in ("Autumn", "Kite", "PastelHills")},
    "MilkyWay": "usr/share/wallpapers/MilkyWay/contents/images/1080x1920.png",
    **{n: _LOMIRI + f"{n}.jpg" for n in (
        "2004default", "firstgeneration", "rhythm", "string", "the-mouse",
        "Fossa_by_Jasper_Roks", "Painting-Colors_by__herobrine7gamer")},
    **{n: _LOMIRI + f"{n}.png" for n in ("calla", "goldfish", "fluent-color")},
}
_STAMPS = "usr/share/tuxpaint/stamps/"
# Photographic stamps (not the cartoons), by the category a shop would list them in.
CUTOUT_FILES = {
    "birds": ["animals/birds/" + n for n in (
        "crowned_crane", "helmeted_guineafowl", "peacock", "albino_peahen", "pink_flamingo",
        "pelican", "heron_greatblue_flying", "duck", "turkey", "vulture", "nandou", "lark",
        "tucan", "crow", "ostrich", "owl", "magellanic_penguin")],
    "animals": ["animals/" + n for n in (
        "mammals/bears/european-bear", "mammals/bovines/gnu-baby", "mammals/bovines/gnu-stand",
        "mammals/bovines/gnu-baby-stand", "mammals/bovines/indian_blackbuck",
        "mammals/cats/tiger_sumatran", "mammals/cats/lion-2", "mammals/rodents/capybara",
        "mammals/aquatic/otter", "mammals/pig_golden2", "mammals/equines/zebra",
        "mammals/giraffe", "mammals/dogs/fox", "mammals/rodents/squirrel",
        "mammals/bovines/sheep", "mammals/bovines/goat", "mammals/deer/doe",
        "mammals/apes/chimp", "marsupials/koala",
        "mammals/equines/donkey", "mammals/camel/camel", "mammals/bovines/ram")],
    "insects": ["animals/" + n for n in (
        "insects/mantis", "insects/Woodlouse", "insects/Brown_slug", "fish/lobster",
        "insects/hoverfly", "insects/grasshopper", "fish/seahorse", "amphibians/frog-1")],
    "food": ["food/fruit/" + n for n in (
        "Apricot_whole", "Cherry_Stella", "Strawberry2", "avocado", "cherimoya",
        "orange_seville", "kiwi")] + ["food/spices/ginger", "plants/eggplant",
                                      "seasonal/christmas/Mince_Pie",
                                      "seasonal/christmas/Roast_turkey",
                                      "seasonal/christmas/Christmas_pudding",
                                      "plants/mushrooms/cep", "plants/mushrooms/cep-1"],
    "plants": ["plants/" + n for n in (
        "flowers/anemone_red", "flowers/daffodil", "trees/holm_oak", "trees/liberia-palm",
        "trees/rambutan", "trees/tree336", "thyme", "flowers/adeenia", "flowers/anthoorium")],
    "household": ["household/" + n for n in (
        "Lightbulb", "tools/cementmixer", "cylinder", "home_compost_bin")]
        + ["medical/stethoscope", "seasonal/candle", "seasonal/christmas/German_Christmas_toy",
           "hobbies/music/percussion/drum_tomtom_floor", "hobbies/music/percussion/drumkit",
           "hobbies/music/percussion/cymbal_crash", "medical/mercurythermometer"],
    "vehicles": ["vehicles/" + n for n in (
        "emergency/firetruck", "construction/dumper", "wheel_tractor", "flight/balloon360",
        "flight/planes/747", "race/indycar", "garbagetruck", "masstransit/green_korean_bus",
        "ship/chineseJunk", "ship/walnutBoat")]
        + ["military/vehicles/bradley", "military/vehicles/infantry-stryker",
           "military/vehicles/f22_raptor", "space/apollo_lander"],
}


class PhotosUnavailable(RuntimeError):
    """The photos could not be fetched: the message says what failed and what to do."""


def _fetch_packages() -> Path:
    """The packages' files, unpacked under CACHE/files (downloaded the first time)."""
    root = CACHE / "files"
    done = CACHE / "unpacked"
    wanted = "\n".join(PACKAGES)
    if done.exists() and done.read_text() == wanted:
        return root
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise PhotosUnavailable("apt-get and dpkg-deb are needed to fetch the photo set's "
                                f"Debian packages ({', '.join(PACKAGES)})")
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in PACKAGES if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        print(f"bench: fetching the photo set's packages ({', '.join(missing)}; about "
              "300 MB, once) into bench/.photos ...", flush=True)
        got = subprocess.run(["apt-get", "download", *missing], cwd=debs, capture_output=True,
                             text=True)
        if got.returncode:
            raise PhotosUnavailable(f"apt-get download {' '.join(missing)} failed: "
                                    f"{got.stderr.strip()[-400:]}")
    root.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    done.write_text(wanted)
    return root


def _shrunk(path: Path, longest: int = LONGEST) -> Image.Image:
    with Image.open(path) as im:
        im.draft("RGB", (longest, longest))
        img = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info
                         else "RGB")
    if max(img.size) > longest:
        img.thumbnail((longest, longest), Image.LANCZOS)
    return img


def _kept(name: str, make) -> Image.Image:
    """A prepared picture from CACHE/prepared (PNG), made with `make()` the first time."""
    path = CACHE / "prepared" / f"{name}.png"
    if path.exists():
        with Image.open(path) as im:
            return im.copy()
    img = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return img


def _hillshade(elevation: np.ndarray, azimuth: float = 315, altitude: float = 45) -> Image.Image:
    """Shaded relief of an elevation model, tinted by height: a terrain 'photo'."""
    dy, dx = np.gradient(elevation.astype(np.float64))
    slope = np.pi / 2 - np.arctan(np.hypot(dx, dy))
    aspect = np.arctan2(-dx, dy)
    az, alt = np.radians(azimuth), np.radians(altitude)
    shade = np.sin(alt) * np.sin(slope) + np.cos(alt) * np.cos(slope) * np.cos(az - aspect)
    shade = (shade - shade.min()) / max(1e-9, np.ptp(shade))
    height = (elevation - elevation.min()) / max(1e-9, np.ptp(elevation))
    low, high = np.array([70, 110, 60]), np.array([225, 205, 170])
    rgb = (low + (high - low) * height[..., None]) * (0.35 + 0.65 * shade[..., None])
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _matplotlib_photos() -> dict[str, Image.Image]:
    try:
        from matplotlib import cbook
    except ImportError as e:
        raise PhotosUnavailable("matplotlib is needed for its sample photos: pip install "
                                "-e '.[bench]'") from e
    out = {"GraceHopper": _kept("GraceHopper", lambda: _shrunk(
        Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))))}
    dem = cbook.get_sample_data("jacksboro_fault_dem.npz")
    out["JacksboroRelief"] = _kept("JacksboroRelief", lambda: _hillshade(
        np.asarray(dem["elevation"])).resize((700, 700), Image.BICUBIC))
    topo = cbook.get_sample_data("topobathy.npz")
    out["TopobathyRelief"] = _kept("TopobathyRelief", lambda: _hillshade(
        np.asarray(topo["topo"]), azimuth=250).resize((800, 640), Image.BICUBIC))
    return out


@dataclass(frozen=True)
class Cutout:
    name: str
    category: str
    image: Image.Image   # RGBA, cropped to the object


def _cutout(path: Path) -> Image.Image:
    img = _shrunk(path, 640).convert("RGBA")
    box = img.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    return img.crop(box) if box else img


@lru_cache(maxsize=1)
def photos() -> dict[str, Image.Image]:
    root = _fetch_packages()
    out = {name: _kept(name, lambda rel=rel: _shrunk(root / rel).convert("RGB"))
           for name, rel in PHOTO_FILES.items()}
    out.update(_matplotlib_photos())
    return out


@lru_cache(maxsize=1)
def artwork() -> dict[str, Image.Image]:
    root = _fetch_packages()
    return {name: _kept(f"art-{name}", lambda rel=rel: _shrunk(root / rel, 800).convert("RGB"))
            for name, rel in ARTWORK_FILES.items()}


@lru_cache(maxsize=1)
def cutouts() -> list[Cutout]:
    root = _fetch_packages()
    out = []
    for category, names in CUTOUT_FILES.items():
        for rel in names:
            name = rel.rsplit("/", 1)[-1]
            img = _kept(f"cut-{name}", lambda rel=rel: _cutout(root / (_STAMPS + rel + ".png")))
            out.append(Cutout(name, category, img))
    return out
