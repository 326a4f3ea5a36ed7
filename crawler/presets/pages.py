"""What each platform's own pages look like: where its listing and category pages are, and the
CSS selectors of its themes' product block (title, price, crossed-out price, stock line,
SKU; galleries differ too much from theme to theme, and the product block's own reading,
crawler.extract.shown, finds them). A contract's `store.platform` puts these before the generic selectors, field
by field, and a contract's own `[store.selectors]` and patterns before both.

Sources, per platform (what each selector follows):
* shopify: the Dawn reference theme (`sections/main-product.liquid`, `snippets/price.liquid`:
  `price__sale` holds the sale `price-item--sale` and the crossed-out `price-item--regular`)
  and the older Debut/Simple themes' `product-single__*` names;
* woocommerce: its templates (`single-product/title.php`, `price.php`, `stock.php`,
  `product-image.php`; a variation's price in `woocommerce-variation-price`);
* magento: Luma's product view (`page-title`, the price box's `data-price-type` finalPrice /
  oldPrice, `stock available|unavailable`, the gallery placeholder);
* taobao, tmall, jd: their desktop item pages (Taobao's `tb-main-title`, `J_PromoPriceNum`,
  `J_StrPrice`, `J_SpanStock`, `J_UlThumb`; Tmall's `tb-detail-hd`, `J_PromoPrice`,
  `J_StrPriceModBox`, `J_EmStock`; JD's `sku-name`, `p-price`, `page_origin_price`,
  `store-prompt`, `spec-list`). These platforms publish no storefront markup or open
  endpoint; their selectors follow the pages as they are served, and may change with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..extract import Selectors


@dataclass(frozen=True)
class PlatformPages:
    listing_pattern: str | None = None
    category_pattern: str | None = None
    selectors: Selectors = field(default_factory=Selectors)


PAGES: dict[str, PlatformPages] = {
    "shopify": PlatformPages(
        listing_pattern=r"/products/[^/?#]+",
        category_pattern=r"/collections/",
        selectors=Selectors(
            title=".product__title h1, h1.product-single__title, .product__title",
            price=(".product__info-container .price--on-sale .price-item--sale, "
                   ".product__info-container .price__regular .price-item--regular, "
                   ".product-single__price:not(.product-single__price--compare), "
                   "[data-product-price]"),
            list_price=(".product__info-container .price--on-sale s.price-item--regular, "
                        ".product-single__price--compare, [data-compare-price]"),
            stock=".product-form__inventory, .product__inventory",
            sku=".product__sku, .product-single__sku, [data-sku]",
        )),
    "woocommerce": PlatformPages(
        listing_pattern=r"/product/",
        category_pattern=r"/(product-category|shop)/",
        selectors=Selectors(
            title=".product_title",
            price=(".woocommerce-variation-price .price ins .woocommerce-Price-amount, "
                   ".woocommerce-variation-price .price .woocommerce-Price-amount, "
                   ".summary .price ins .woocommerce-Price-amount, "
                   # one amount, not one end of a variable product's range
                   ".summary p.price > span.woocommerce-Price-amount:only-of-type"),
            list_price=(".woocommerce-variation-price .price del .woocommerce-Price-amount, "
                        ".summary .price del .woocommerce-Price-amount"),
            stock=".woocommerce-variation-availability .stock, .summary .stock",
            sku=".sku_wrapper .sku",
        )),
    "magento": PlatformPages(
        listing_pattern=r"\.html$",
        category_pattern=r"\.html$",
        selectors=Selectors(
            title=".product-info-main .page-title .base, .product-info-main .page-title",
            price=(".product-info-main .price-box [data-price-type=finalPrice] .price, "
                   ".product-info-main .special-price .price"),
            list_price=(".product-info-main .price-box [data-price-type=oldPrice] .price, "
                        ".product-info-main .old-price .price"),
            stock=".product-info-main .stock",
            sku=".product-info-main .product.attribute.sku .value",
        )),
    "taobao": PlatformPages(
        listing_pattern=r"item\.htm\?(.*&)?id=\d+",
        category_pattern=r"/(search|category)[-\w]*\.htm",
        selectors=Selectors(
            title=".tb-main-title",
            price="#J_PromoPriceNum, .tb-promo-price .tb-rmb-num, #J_StrPrice .tb-rmb-num",
            list_price="#J_StrPrice .tb-rmb-num",
            stock="#J_SpanStock, #J_Stock",
        )),
    "tmall": PlatformPages(
        listing_pattern=r"item\.htm\?(.*&)?id=\d+",
        category_pattern=r"/(search|category)[-\w]*\.htm",
        selectors=Selectors(
            title=".tb-detail-hd h1",
            price="#J_PromoPrice .tm-price, .tm-promo-price .tm-price, #J_StrPriceModBox .tm-price",
            list_price="#J_StrPriceModBox .tm-price",
            stock="#J_EmStock",
        )),
    "jd": PlatformPages(
        listing_pattern=r"/\d+\.html$",
        category_pattern=r"/(view_search|list)[-\w]*\.html",
        selectors=Selectors(
            title=".sku-name",
            price=".summary-price .p-price .price, .p-price .price",
            list_price="#page_origin_price, .summary-price del",
            stock="#store-prompt",
        )),
}


def platform_selectors(platform: str, base: Selectors) -> Selectors:
    """`base` (the generic selectors) with the platform's alternatives tried first."""
    own = PAGES.get(platform, PlatformPages()).selectors
    return Selectors(**{
        f.name: ", ".join(s for s in (getattr(own, f.name), getattr(base, f.name)) if s) or None
        for f in fields(Selectors)})


def platform_pages(platform: str) -> PlatformPages:
    """The platform's page shapes (every field None for "generic" and unknown names)."""
    return PAGES.get(platform, PlatformPages())


__all__ = ["PAGES", "PlatformPages", "platform_pages", "platform_selectors"]
