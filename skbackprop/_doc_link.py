"""Links from an estimator's HTML representation to its page in our docs.

scikit-learn's HTML repr (a notebook's display of an estimator) links each
estimator to its API page through three class attributes read by
``sklearn.utils._repr_html.base._HTMLDocumentationLinkMixin``, a base of
``BaseEstimator``. :class:`DocLinkMixin` points them at skbackprop's site.
"""

#: Root of the built documentation; the API pages are under ``generated/``.
DOCS_URL = "https://skbackprop.readthedocs.io/en/stable/"


class DocLinkMixin:
    """Point the HTML repr's documentation link at skbackprop's API pages.

    Put it before ``BaseEstimator`` in the bases, so that its attributes take
    precedence over scikit-learn's. The link of ``skbackprop._mlp.MLPBackprop``
    is ``DOCS_URL + "generated/skbackprop.MLPBackprop.html"``: scikit-learn
    fills ``{estimator_module}`` with the module path up to the first private
    part, which is where every public estimator is exported.

    """

    _doc_link_module = "skbackprop"
    _doc_link_template = DOCS_URL + "generated/{estimator_module}.{estimator_name}.html"
