"""The sample store's catalog: 山禾生活旗舰店, a Tmall-style shop.

`build_products(size, seed)` is deterministic and cheap (no images are made here), so a 2000-listing
store builds in milliseconds. The first few SKUs are fixed "anchor" listings that the scenario
timeline (`demostore.scenario`) acts upon; they are the same for every size and seed, so tests in
any package can name them.

`write_catalog_csv(path, size)` writes the merchant's product sheet (`sku,cost,reference_price,
promoted,category`, category being the product's category slug); `demostore/catalog.csv` is that
file for the default 60-listing store.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

SHOP_NAME = "山禾生活旗舰店"
BRAND = "山禾"
BRAND_EN = "Shanhe"
SKU_PREFIX = "SH-"

# category slug -> display name, in navigation order
CATEGORIES: dict[str, str] = {
    "apparel": "服饰鞋包",
    "furniture": "家具家装",
    "kitchen": "厨房餐具",
    "digital": "数码配件",
    "outdoor": "户外运动",
}

PAGE_STYLES = ("jsonld", "microdata", "plain", "jsprice")

# Two titles that later security tests use; applied only when asked (DemoStore(hostile_titles=True)).
HOSTILE_TITLES: dict[str, str] = {
    "SH-0059": "<img src=x onerror=alert(1)>",
    "SH-0060": "<script>alert(1)</script>",
}

CENT = Decimal("0.01")


@dataclass
class Product:
    sku: str
    slug: str
    category: str
    title: str
    price: Decimal
    list_price: Decimal | None
    cost: Decimal
    reference_price: Decimal
    stock: int
    shows_stock_count: bool
    promoted: bool
    catalog_promoted: bool
    page_style: str
    image_count: int
    removed: bool = False
    # Left out of the sitemap, the home page and its category, its own page still served:
    # the agency hoping the audit stops looking (storeaudit reads it through its own URL).
    hidden: bool = False
    images: list[str] = field(default_factory=list)
    # presentation extras (not part of the contract checks)
    monthly_sales: int = 0
    reviews: int = 0
    rating: Decimal = Decimal("4.8")
    specs: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""

    @property
    def url_path(self) -> str:
        return f"/p/{self.slug}"

    @property
    def category_name(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def availability(self) -> str:
        """schema.org availability (short form) as the page shows it."""
        if self.stock <= 0:
            return "OutOfStock"
        if self.stock <= 5:
            return "LimitedAvailability"
        return "InStock"

    @property
    def stock_text(self) -> str:
        if self.stock <= 0:
            return "缺货"
        if self.stock <= 5:
            return f"仅剩 {self.stock} 件"
        return f"库存 {self.stock} 件" if self.shows_stock_count else "有货"

    def copy(self) -> "Product":
        return replace(self, images=list(self.images), specs=list(self.specs))


def format_price(value: Decimal | None) -> str:
    """¥1,299.00"""
    if value is None:
        return ""
    return f"¥{Decimal(value).quantize(CENT):,.2f}"


def plain_price(value: Decimal) -> str:
    """1299.00 (what structured data carries)."""
    return f"{Decimal(value).quantize(CENT):.2f}"


def sku_for(index: int) -> str:
    """SKU of the index-th listing (0-based)."""
    return f"{SKU_PREFIX}{index + 1:04d}"


# --------------------------------------------------------------------------- title pools
# (slug key, title, price range in CNY, english?)
_POOLS: dict[str, list[tuple[str, str, tuple[int, int]]]] = {
    "apparel": [
        ("down-jacket", "加厚连帽羽绒服 男款冬季保暖外套", (399, 899)),
        ("wool-coat", "双面羊毛大衣 女中长款 秋冬新款", (699, 1599)),
        ("cotton-tee", "纯棉圆领短袖T恤 宽松百搭 男女同款", (59, 129)),
        ("knit-sweater", "高领针织毛衣 女 秋冬内搭打底衫", (159, 399)),
        ("straight-jeans", "直筒牛仔裤 男士弹力修身 四季款", (139, 299)),
        ("fleece-hoodie", "摇粒绒连帽卫衣 情侣款 休闲外套", (129, 259)),
        ("linen-shirt", "亚麻长袖衬衫 男 透气休闲上衣", (169, 329)),
        ("pleated-skirt", "高腰百褶半身裙 A字中长款", (119, 239)),
        ("merino-base-layer", "Merino Wool Base Layer Top", (299, 499)),
        ("canvas-chore-jacket", "Canvas Chore Jacket Relaxed Fit", (359, 699)),
        ("running-shoes", "轻量缓震跑步鞋 男女 透气网面运动鞋", (259, 599)),
        ("cashmere-scarf", "羊绒围巾 纯色 秋冬保暖披肩", (199, 499)),
        ("leather-tote", "头层牛皮托特包 大容量通勤单肩包", (399, 999)),
        ("thermal-leggings", "德绒保暖打底裤 女 高腰加绒", (69, 149)),
    ],
    "furniture": [
        ("linen-sofa", "Nordic Linen 3-Seater Sofa", (3999, 6999)),
        ("oak-dining-table", "北欧实木橡木餐桌 1.4米 长方形家用", (1999, 3999)),
        ("bookshelf", "简约落地书架 五层置物架 客厅收纳", (299, 799)),
        ("bedside-table", "实木床头柜 带抽屉 卧室收纳柜", (259, 599)),
        ("walnut-armchair", "Mid-Century Walnut Armchair", (1899, 3299)),
        ("tv-cabinet", "岩板电视柜 客厅现代简约 伸缩款", (1299, 2599)),
        ("bar-stool", "铁艺吧台椅 高脚凳 家用 2把装", (199, 459)),
        ("sliding-wardrobe", "推拉门衣柜 卧室大容量 实木颗粒板", (1599, 3999)),
        ("standing-desk", "电动升降桌 双电机 1.4米 办公书桌", (1299, 2499)),
        ("memory-pillow", "Memory Foam Pillow Ergonomic", (129, 299)),
    ],
    "kitchen": [
        ("cast-iron-pan", "无涂层铸铁平底锅 28cm 家用煎锅", (129, 299)),
        ("knife-set", "德式不锈钢刀具套装 7件套 家用厨房", (299, 899)),
        ("rice-cooker", "智能电饭煲 4L 家用多功能 预约定时", (299, 699)),
        ("ceramic-bowls", "日式釉下彩陶瓷碗 4只装 家用饭碗", (59, 159)),
        ("damascus-chef-knife", "Damascus Steel Chef Knife 8 inch", (399, 899)),
        ("bamboo-board", "整竹砧板 加厚切菜板 双面可用", (69, 169)),
        ("glass-containers", "耐热玻璃保鲜盒 5件套 可微波", (89, 199)),
        ("gooseneck-kettle", "Stainless Steel Gooseneck Kettle 1L", (199, 459)),
        ("air-fryer", "可视空气炸锅 5.5L 家用大容量 无油", (299, 599)),
        ("coffee-grinder", "磨豆机 电动 家用咖啡豆研磨机", (159, 399)),
    ],
    "digital": [
        ("gan-charger", "65W 氮化镓充电器 Type-C 快充头", (99, 199)),
        ("power-bank", "20000mAh 移动电源 PD快充 轻薄便携", (129, 259)),
        ("anc-earbuds", "真无线蓝牙耳机 主动降噪 长续航", (199, 699)),
        ("magsafe-case", "iPhone 16 Pro 磁吸手机壳 防摔全包", (49, 129)),
        ("usb-c-hub", "USB-C Hub 7-in-1 Aluminium", (149, 329)),
        ("mech-keyboard", "机械键盘 87键 热插拔 茶轴 有线", (299, 699)),
        ("silent-mouse", "Wireless Silent Mouse 2.4G", (59, 149)),
        ("braided-cable", "编织快充数据线 Type-C to C 2米", (29, 69)),
        ("tablet-stand", "铝合金平板支架 桌面 可折叠升降", (69, 169)),
        ("smart-watch-band", "Apple Watch 尼龙回环表带 运动款", (49, 119)),
    ],
    "outdoor": [
        ("auto-tent", "户外自动帐篷 3-4人 防雨加厚 露营", (399, 999)),
        ("trekking-poles", "碳纤维登山杖 超轻折叠 两支装", (159, 399)),
        ("sleeping-bag", "信封式睡袋 成人冬季加厚 可拼接", (199, 499)),
        ("camp-chair", "Ultralight Folding Camp Chair", (199, 459)),
        ("headlamp", "LED强光头灯 USB充电 夜跑钓鱼", (59, 159)),
        ("titanium-bottle", "Titanium Water Bottle 750ml", (199, 399)),
        ("hiking-backpack", "40L 登山双肩包 防水徒步背包", (259, 599)),
        ("picnic-mat", "加厚防潮野餐垫 便携折叠 大号", (59, 149)),
        ("rain-jacket", "三合一冲锋衣 男女 防水透气 可拆卸", (399, 1299)),
        ("gas-stove", "Portable Camping Gas Stove", (129, 299)),
    ],
}

_PREFIXES_ZH = ("", "", "", "新款 ", "经典 ", "轻奢 ", "简约 ", "舒适 ")
_VARIANTS_ZH = ("", "", "黑色", "燕麦色", "雾霾蓝", "墨绿", "奶白", "深灰", "卡其")
_DEDUP_ZH = (" 升级款", " 加大码", " 礼盒装", " 两件装", " 旗舰款")
_DEDUP_EN = (" II", " Plus", " Pro", " (2-Pack)", " Gift Box")
_VARIANTS_EN = ("", "", " - Oat", " - Charcoal", " - Sage", " - Navy", " - Sand")

# Categories in a repeating pattern (apparel gets more than 12 listings at size 60, so its
# category page paginates).
_CATEGORY_PATTERN = (
    ["apparel"] * 6 + ["furniture"] * 3 + ["kitchen"] * 4 + ["digital"] * 4 + ["outdoor"] * 3
)
# Page styles rotate; jsonld is the most common, every style appears many times.
_STYLE_PATTERN = (
    "jsonld", "microdata", "plain", "jsonld", "jsprice",
    "jsonld", "microdata", "plain", "jsonld", "plain",
)

_SPECS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "apparel": [("材质", ("棉", "羊毛", "聚酯纤维", "亚麻", "鸭绒")), ("尺码", ("S-XXL", "M-3XL", "均码")),
                ("适用季节", ("秋冬", "四季", "春秋", "夏季")), ("产地", ("浙江杭州", "广东佛山", "福建泉州"))],
    "furniture": [("材质", ("橡木", "胡桃木", "岩板", "亚麻布艺", "钢架")), ("安装方式", ("免费上门安装", "简易组装")),
                  ("风格", ("北欧", "现代简约", "日式", "中古")), ("产地", ("广东佛山", "浙江安吉", "江苏苏州"))],
    "kitchen": [("材质", ("304不锈钢", "铸铁", "陶瓷", "高硼硅玻璃", "竹")), ("适用炉具", ("通用", "燃气灶", "电磁炉")),
                ("是否可机洗", ("是", "否")), ("产地", ("广东阳江", "江西景德镇", "浙江永康"))],
    "digital": [("接口", ("Type-C", "USB-A + Type-C", "Lightning")), ("保修", ("一年质保", "两年质保")),
                ("颜色", ("黑色", "白色", "深空灰")), ("产地", ("广东深圳", "广东东莞"))],
    "outdoor": [("材质", ("210T涤纶", "碳纤维", "钛合金", "尼龙")), ("重量", ("约 350g", "约 1.2kg", "约 2.8kg")),
                ("适用场景", ("露营", "徒步", "登山", "野餐")), ("产地", ("浙江宁波", "福建厦门", "江苏南通"))],
}

_DESCRIPTIONS = {
    "apparel": "精选面料，做工细致，版型经过多次打样调整。日常通勤与周末出行都合适，建议按平时尺码选购。",
    "furniture": "实木与环保板材，甲醛释放量符合国标E0级。同城物流送货上门，大件商品提供免费安装服务。",
    "kitchen": "食品级材质，通过SGS检测。厨房好物，让每天的一日三餐更轻松。首次使用前请清洗干净。",
    "digital": "通过3C认证，多重安全保护。兼容主流手机与笔记本电脑，支持七天无理由退换。",
    "outdoor": "为户外而生，轻量耐用。出发前请检查配件是否齐全，雨天使用后请晾干收纳。",
}


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _shop_price(rng: random.Random, low: int, high: int) -> Decimal:
    """A realistic shop price: 299, 1299, 89.90 ..."""
    raw = rng.uniform(low, high)
    if raw >= 1000:
        value = int(raw / 100) * 100 + 99
    elif raw >= 100:
        value = int(raw / 10) * 10 + 9
    else:
        value = int(raw)  # e.g. 59 -> 59.90 style below
        return _money(value + 0.9)
    return _money(value)


# Anchor listings the scenario acts upon: fixed for every size and seed.
# sku -> (category, slug key, title, price, list price, cost, reference, stock, shows count,
#         promoted, catalog_promoted, style, image count)
_ANCHORS: dict[str, dict] = {
    "SH-0001": dict(category="apparel", key="down-jacket", title="山禾 加厚连帽羽绒服 男款冬季保暖外套",
                    price="299.00", list_price="399.00", cost="160.00", reference_price="299.00",
                    stock=86, shows_stock_count=True, promoted=True, catalog_promoted=True,
                    page_style="jsonld", image_count=4, images_ext=("jpg", "jpg", "png", "jpg")),
    "SH-0002": dict(category="furniture", key="linen-sofa", title="Nordic Linen 3-Seater Sofa",
                    price="4999.00", list_price=None, cost="2600.00", reference_price="4999.00",
                    stock=12, shows_stock_count=False, promoted=False, catalog_promoted=False,
                    page_style="microdata", image_count=5, images_ext=("jpg", "jpg", "jpg", "png", "jpg")),
    "SH-0003": dict(category="outdoor", key="auto-tent", title="山禾 户外自动帐篷 3-4人 防雨加厚 露营",
                    price="569.00", list_price="699.00", cost="260.00", reference_price="569.00",
                    stock=64, shows_stock_count=True, promoted=False, catalog_promoted=False,
                    page_style="plain", image_count=3, images_ext=("jpg", "png", "jpg")),
    "SH-0004": dict(category="digital", key="power-bank", title="山禾 20000mAh 移动电源 PD快充 轻薄便携",
                    price="159.00", list_price="199.00", cost="72.00", reference_price="159.00",
                    stock=40, shows_stock_count=True, promoted=True, catalog_promoted=True,
                    page_style="jsprice", image_count=3, images_ext=("jpg", "jpg", "png")),
    "SH-0005": dict(category="kitchen", key="rice-cooker", title="山禾 智能电饭煲 4L 家用多功能 预约定时",
                    price="399.00", list_price=None, cost="190.00", reference_price="399.00",
                    stock=55, shows_stock_count=False, promoted=False, catalog_promoted=False,
                    page_style="jsonld", image_count=2, images_ext=("jpg", "png")),
    "SH-0006": dict(category="kitchen", key="knife-set", title="山禾 德式不锈钢刀具套装 7件套",
                    price="499.00", list_price="599.00", cost="210.00", reference_price="499.00",
                    stock=120, shows_stock_count=True, promoted=False, catalog_promoted=False,
                    page_style="microdata", image_count=3, images_ext=("jpg", "jpg", "jpg")),
    "SH-0007": dict(category="outdoor", key="camp-chair", title="Ultralight Folding Camp Chair",
                    price="299.00", list_price=None, cost="120.00", reference_price="299.00",
                    stock=230, shows_stock_count=False, promoted=False, catalog_promoted=False,
                    page_style="plain", image_count=3, images_ext=("jpg", "png", "jpg")),
}

# Listings whose badge on the store and the merchant's promoted list disagree on purpose
# (index -> (promoted, catalog_promoted)); only non-anchor listings.
_PROMOTION_MISMATCH = {17: (False, True), 33: (True, False)}


def _make(index: int, rng: random.Random) -> Product:
    sku = sku_for(index)
    anchor = _ANCHORS.get(sku)
    if anchor is not None:
        a = dict(anchor)
        exts = a.pop("images_ext")
        key = a.pop("key")
        price = Decimal(a.pop("price"))
        lp = a.pop("list_price")
        p = Product(
            sku=sku,
            slug=f"{sku.lower()}-{key}",
            price=price,
            list_price=Decimal(lp) if lp else None,
            cost=Decimal(a.pop("cost")),
            reference_price=Decimal(a.pop("reference_price")),
            **a,
        )
        p.images = [f"/img/{sku}/{i + 1}.{ext}" for i, ext in enumerate(exts)]
        _decorate(p, random.Random(f"anchor:{sku}"))  # anchors are the same for every seed
        return p

    category = _CATEGORY_PATTERN[index % len(_CATEGORY_PATTERN)]
    pool = _POOLS[category]
    key, base, (low, high) = pool[rng.randrange(len(pool))]
    english = base.isascii()
    if english:
        title = base + rng.choice(_VARIANTS_EN)
        if rng.random() < 0.3:
            title = f"{BRAND_EN} {title}"
    else:
        variant = rng.choice(_VARIANTS_ZH)
        title = f"{BRAND} {rng.choice(_PREFIXES_ZH)}{base}"
        if variant:
            title = f"{title} {variant}"
    price = _shop_price(rng, low, high)
    reference = price
    # some listings show a "was" price (a modest, approved-looking markdown)
    list_price = None
    if rng.random() < 0.45:
        list_price = _shop_price(rng, int(price * Decimal("1.15")), int(price * Decimal("1.5")) + 1)
        if list_price <= price:
            list_price = None
    cost = _money(float(price) * rng.uniform(0.32, 0.55))
    promoted = index % 7 == 3
    catalog_promoted = promoted
    if index in _PROMOTION_MISMATCH:
        promoted, catalog_promoted = _PROMOTION_MISMATCH[index]
    stock_roll = rng.random()
    if promoted:
        stock = rng.randint(30, 400)
    elif stock_roll < 0.06:
        stock = 0
    elif stock_roll < 0.14:
        stock = rng.randint(1, 5)
    else:
        stock = rng.randint(8, 600)
    image_count = rng.randint(2, 5)
    exts = ["jpg"] + [("png" if rng.random() < 0.3 else "jpg") for _ in range(image_count - 1)]
    p = Product(
        sku=sku,
        slug=f"{sku.lower()}-{key}",
        category=category,
        title=title,
        price=price,
        list_price=list_price,
        cost=cost,
        reference_price=reference,
        stock=stock,
        shows_stock_count=rng.random() < 0.5,
        promoted=promoted,
        catalog_promoted=catalog_promoted,
        page_style=_STYLE_PATTERN[index % len(_STYLE_PATTERN)],
        image_count=image_count,
        images=[f"/img/{sku}/{i + 1}.{ext}" for i, ext in enumerate(exts)],
    )
    _decorate(p, rng)
    return p


def _decorate(p: Product, rng: random.Random) -> None:
    p.monthly_sales = rng.choice((rng.randint(5, 90), rng.randint(100, 999), rng.randint(1000, 9000)))
    p.reviews = int(p.monthly_sales * rng.uniform(0.8, 6))
    p.rating = Decimal(str(round(rng.uniform(4.6, 5.0), 1)))
    p.specs = [("品牌", BRAND)] + [(name, rng.choice(values)) for name, values in _SPECS[p.category]]
    p.description = _DESCRIPTIONS[p.category]


@lru_cache(maxsize=16)
def _build(size: int, seed: int) -> tuple[Product, ...]:
    # every listing draws from its own seeded stream (str seeds are hashed with SHA-512, so this
    # is stable across processes), so listing N is the same whatever the store's size
    out: list[Product] = []
    seen: set[str] = set()
    for index in range(size):
        p = _make(index, random.Random(f"shanhe:{seed}:{index}"))
        if p.title in seen:  # no two listings share a title
            extras = _DEDUP_EN if p.title.isascii() else _DEDUP_ZH
            for extra in extras:
                if p.title + extra not in seen:
                    p.title += extra
                    break
            else:
                p.title += f" #{index + 1}"
        seen.add(p.title)
        out.append(p)
    return tuple(out)


def build_products(size: int = 60, seed: int = 7) -> list[Product]:
    """The store's listings as they are on day 0 (fresh copies; mutate freely)."""
    if size < 0:
        raise ValueError("size must be >= 0")
    return [p.copy() for p in _build(size, seed)]


def catalog_csv_text(size: int = 60, seed: int = 7) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["sku", "cost", "reference_price", "promoted", "category"])
    for p in _build(size, seed):
        writer.writerow([p.sku, plain_price(p.cost), plain_price(p.reference_price),
                         "yes" if p.catalog_promoted else "no", p.category])
    return buf.getvalue()


def write_catalog_csv(path: str | Path, size: int = 60, seed: int = 7) -> Path:
    """Write the merchant's product sheet (UTF-8, no BOM)."""
    path = Path(path)
    path.write_text(catalog_csv_text(size, seed), encoding="utf-8", newline="")
    return path


CATALOG_CSV = Path(__file__).with_name("catalog.csv")
