"""The stream's vocabulary: schema ids, the short kind of each, and the roles that score."""

from __future__ import annotations

ENVELOPE_INGRESS = "com.nordstrom/retail-stream-ingress/1-0-0"
ENVELOPE_EGRESS = "com.nordstrom/retail-stream-egress/1-0-0"
ENVELOPES = (ENVELOPE_INGRESS, ENVELOPE_EGRESS)
PRODUCT_CREATE = "com.nordstrom/product/create/1-0-0"
PRODUCT_IMAGE = "com.nordstrom/product/image/1-0-0"
PRODUCT_PURCHASE = "com.nordstrom/product/purchase/1-0-0"
PRODUCT_VIEW = "com.hello-winners/product/view/1-0-0"  # kit extension for the extra credit
CATEGORY_VIEW = "com.hello-winners/category/view/1-0-0"  # kit extension for the extra credit

#: Short kind of each data schema, in the order the analysis lists them.
KINDS = {
    PRODUCT_CREATE: "create",
    PRODUCT_IMAGE: "image",
    PRODUCT_PURCHASE: "purchase",
    PRODUCT_VIEW: "product-view",
    CATEGORY_VIEW: "category-view",
}

#: The two roles that score, and the event kind whose origin names each: a create names the product's
#: merchant, an image its photographer. (The customer who buys scores nothing.)
MERCHANT = "merchant"
PHOTOGRAPHER = "photographer"
ROLES = (MERCHANT, PHOTOGRAPHER)
ROLE_OF_KIND = {"create": MERCHANT, "image": PHOTOGRAPHER}
KIND_OF_ROLE = {role: kind for kind, role in ROLE_OF_KIND.items()}

#: The parts of an origin the kit's producers write: hello-retail/<role>/<unique id>/<name>.
WIDGET = "hello-retail"
ROLE_MERCHANT = "product-producer-creator"
ROLE_PHOTOGRAPHER = "product-producer-photographer"
ROLE_CUSTOMER = "product-consumer-customer"
