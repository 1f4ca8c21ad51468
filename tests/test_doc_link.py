"""The HTML repr of an estimator links to its page in skbackprop's docs."""

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils import estimator_html_repr

from skbackprop import (
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPBackprop,
    MLPBackpropRegressor,
    SoftmaxClassifier,
)
from skbackprop._doc_link import DOCS_URL, DocLinkMixin


class Throwaway(DocLinkMixin, BaseEstimator):
    """A stand-in estimator, placed as if it lived in a private module."""


Throwaway.__module__ = "skbackprop._throwaway"


class Outsider(DocLinkMixin, BaseEstimator):
    """An estimator of another package that happens to use the mixin."""


def test_link_points_at_the_api_page_of_the_estimator():
    assert Throwaway()._get_doc_link() == (
        DOCS_URL + "generated/skbackprop.Throwaway.html"
    )


def test_the_html_repr_carries_the_link():
    assert DOCS_URL + "generated/skbackprop.Throwaway.html" in estimator_html_repr(
        Throwaway()
    )


def test_no_link_for_classes_outside_skbackprop():
    assert Outsider()._get_doc_link() == ""


@pytest.mark.parametrize(
    "estimator",
    [
        SoftmaxClassifier,
        LogisticRegressionGD,
        MLPBackprop,
        LinearRegressionGD,
        MLPBackpropRegressor,
    ],
    ids=lambda cls: cls.__name__,
)
def test_the_estimators_link_to_their_pages(estimator):
    assert estimator()._get_doc_link() == (
        f"{DOCS_URL}generated/skbackprop.{estimator.__name__}.html"
    )
