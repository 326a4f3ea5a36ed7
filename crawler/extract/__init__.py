"""One listing page's HTML turned into data: title, price, stock, images, SKU, promoted.

Four sources are read and merged field by field, the first that has a field winning:

1. JSON-LD (`<script type="application/ld+json">`, via extruct, one block at a time so a
   broken block loses only itself): Product, ProductGroup with hasVariant, @graph, lists,
   mainEntity; offers as one Offer, a list, or an AggregateOffer (lowPrice -> price, with the
   note "range LOW–HIGH" or "from"); priceSpecification with priceType ListPrice /
   StrikethroughPrice -> list_price; inventoryLevel -> stock_count.
2. microdata (itemscope/itemprop, via extruct), read like JSON-LD.
3. OpenGraph (og:title, og:image, product:price:amount/currency, product:sale_price:amount,
   og:availability / product:availability, product:retailer_item_id).
4. CSS selectors (`Selectors`), for stores without structured data, and always for the
   visible stock count and the promoted badge.

Everything read is data: titles keep `<script>`/`<img onerror>` text literally; nothing is
evaluated. Odd HTML never raises: `extract_listing` returns what it found, lists the required
fields it could not find in `missing`, and says what went wrong in `problems`.

The package is laid out along those sources:

- `page`: `extract_listing`, the field-by-field merge and its result, `Extracted`.
- `jsonld`, `microdata`: the raw schema.org items of each; `schema_org` reads a Product
  out of either into the shared `Found` values.
- `opengraph`, `css`: each reads its source into `Found` values.
- `selectors`: `Selectors`, the contract's CSS selectors, and how a group is matched.
- `listing_pages`: product links and the next page on a category page, for discovery.
- `document`, `values`: helpers every reader shares (parsing HTML, absolute URLs, collapsing
  whitespace; `Found` and reading prices and currencies from structured values).
"""

from crawler.extract.listing_pages import extract_card_links, extract_next_page
from crawler.extract.page import REQUIRED_FIELDS, Extracted, extract_listing
from crawler.extract.selectors import Selectors

__all__ = [
    "Selectors",
    "Extracted",
    "REQUIRED_FIELDS",
    "extract_listing",
    "extract_card_links",
    "extract_next_page",
]
