"""The pieces of "nothing lost" on their own: the fit transaction, the Ctrl-C
checkpoint of a driver, the combined sample/class weights, the penalty scale,
and the memory and validation-split limits.

The estimators' behaviour under these rules is tested from the outside in
tests/test_nothing_lost.py.
"""

import pickle
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils import compute_class_weight

from skbackprop import _limits
from skbackprop._limits import (
    FALLBACK_MEMORY_BOUND,
    check_network_size,
    check_validation_split,
    memory_bound,
    training_memory,
)
from skbackprop._transaction import EpochCheckpoint, fit_transaction
from skbackprop._weights import check_penalty_scale, combined_weights


class Model:
    """A stand-in estimator: a parameter, fitted arrays, private training state."""

    def __init__(self, random_state=None):
        self.random_state = random_state


class State:
    """A stand-in for optimizer state or a training record, changed in place."""

    def __init__(self, n):
        self.moment = np.zeros(n)
        self.steps = 0
        self.history = []


class Unhashable(Model):
    __hash__ = None

    def __eq__(self, other):
        return isinstance(other, Unhashable)


def _fitted(random_state=None):
    model = Model(random_state)
    model.coef_ = np.arange(3.0)
    model.loss_curve_ = [3.0, 2.0]
    model._optimizer = State(3)
    model._rng = np.random.RandomState(7)
    return model


# --- fit_transaction ---------------------------------------------------------


@pytest.mark.parametrize("error", [ValueError("bad"), KeyboardInterrupt()])
def test_transaction_restores_everything_and_reraises(error):
    model = _fitted()
    coef, curve, optimizer = model.coef_, list(model.loss_curve_), model._optimizer
    rng_draw = np.random.RandomState(7).uniform()
    with pytest.raises(type(error)):
        with fit_transaction(model, model.random_state):
            model.coef_ = np.zeros(5)  # replaced
            model.loss_curve_.append(1.0)  # a container changed in place
            model._optimizer.moment += 1  # private state changed in place
            model._optimizer.steps = 9
            model._rng.uniform(size=4)  # the generator consumed
            model.n_iter_ = 4  # added
            del model.random_state  # removed
            raise error
    assert model.coef_ is coef  # referenced, not copied
    assert model.loss_curve_ == curve
    assert_array_equal(model._optimizer.moment, np.zeros(3))
    assert model._optimizer.steps == 0
    assert model._optimizer is not optimizer  # the deep copy taken before
    assert model._rng.uniform() == rng_draw
    assert not hasattr(model, "n_iter_")
    assert model.random_state is None


def test_transaction_keeps_a_completed_call():
    model = _fitted()
    with fit_transaction(model, None):
        model.coef_ = np.zeros(5)
        model._optimizer.steps = 3
    assert_array_equal(model.coef_, np.zeros(5))
    assert model._optimizer.steps == 3


@pytest.mark.parametrize(
    "make_rng",
    [np.random.RandomState, np.random.default_rng],
    ids=["RandomState", "Generator"],
)
def test_transaction_restores_a_callers_generator_in_place(make_rng):
    rng = make_rng(0)
    expected = make_rng(0).uniform(size=3)
    model = Model(random_state=rng)
    with pytest.raises(RuntimeError):
        with fit_transaction(model, model.random_state):
            model._rng = model.random_state  # the fit's generator is the caller's
            model._rng.uniform(size=10)
            raise RuntimeError
    assert model.random_state is rng
    assert not hasattr(model, "_rng")
    assert_array_equal(rng.uniform(size=3), expected)


def test_transaction_keeps_the_identity_of_a_shared_generator():
    rng = np.random.RandomState(0)
    model = Model(random_state=rng)
    model._rng = rng
    with pytest.raises(RuntimeError):
        with fit_transaction(model, rng):
            rng.uniform(size=10)
            raise RuntimeError
    assert model._rng is rng is model.random_state
    assert rng.uniform() == np.random.RandomState(0).uniform()


def test_transaction_consumes_the_generator_of_a_completed_call():
    rng = np.random.RandomState(0)
    with fit_transaction(Model(rng), rng):
        rng.uniform()
    assert rng.uniform() == np.random.RandomState(0).uniform(size=2)[1]


def test_copy_state_names_what_is_deep_copied():
    model = _fitted()
    with pytest.raises(RuntimeError):
        with fit_transaction(model, None, copy_state=()):
            model._optimizer.steps = 5
            raise RuntimeError
    # not copied: a call that changes it in place must name it in copy_state
    assert model._optimizer.steps == 5


def test_a_second_call_on_the_same_object_is_refused():
    model = _fitted()
    inside, release = threading.Event(), threading.Event()
    errors = []

    def first():
        with fit_transaction(model, None):
            model.coef_ = np.ones(2)
            inside.set()
            release.wait(10)

    def second():
        inside.wait(10)
        try:
            with fit_transaction(model, None):
                model.coef_ = np.full(3, 9.0)
        except RuntimeError as error:
            errors.append(error)
        finally:
            release.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(errors) == 1
    assert "already being fitted" in str(errors[0])
    assert "clone" in str(errors[0])
    assert_array_equal(model.coef_, np.ones(2))  # the first call's model
    with fit_transaction(model, None):  # released once the first call ends
        pass


def test_a_nested_call_is_refused_and_the_lock_released_after_a_failure():
    model = _fitted()
    with pytest.raises(RuntimeError, match="already being fitted"):
        with fit_transaction(model, None):
            with fit_transaction(model, None):
                pass
    with pytest.raises(ValueError):
        with fit_transaction(model, None):
            raise ValueError
    with fit_transaction(model, None):
        model.n_iter_ = 1
    assert model.n_iter_ == 1


def test_other_objects_fit_at_the_same_time():
    a, b = _fitted(), _fitted()
    with fit_transaction(a, None), fit_transaction(b, None):
        a.n_iter_ = b.n_iter_ = 1


def test_unhashable_estimators_and_nothing_in_the_instance_dict():
    model = Unhashable()
    with fit_transaction(model, None):
        assert vars(model) == {"random_state": None}
        pickle.dumps(model)  # no lock object to pickle
    with pytest.raises(RuntimeError):
        with fit_transaction(model, None):
            model.coef_ = 1
            raise RuntimeError
    assert vars(model) == {"random_state": None}


# --- EpochCheckpoint ---------------------------------------------------------


def _training_state():
    theta = np.zeros(4)
    record = State(1)
    optimizer = State(4)
    rng = np.random.RandomState(3)
    return theta, record, optimizer, rng


def _epoch(theta, record, optimizer, rng):
    theta += rng.uniform(size=theta.size)
    record.history.append(float(theta.sum()))
    record.steps += 1
    optimizer.moment += theta


def test_rollback_restores_the_last_commit_in_place_and_warns():
    state = _training_state()
    theta, record, optimizer, rng = state
    checkpoint = EpochCheckpoint(incremental=False)
    for _ in range(2):
        _epoch(*state)
        checkpoint.commit(*state)
    expected_theta, expected_moment = theta.copy(), optimizer.moment.copy()
    expected_history = list(record.history)
    twin = np.random.RandomState()
    twin.set_state(rng.get_state())
    expected_draw = twin.uniform()
    for _ in range(3):  # epochs that are interrupted before their commit
        _epoch(*state)
    with pytest.warns(UserWarning, match="^Training interrupted by user.$"):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            checkpoint.rollback(*state)
    assert_array_equal(theta, expected_theta)
    assert_array_equal(optimizer.moment, expected_moment)
    assert record.history == expected_history
    assert record.steps == 2
    assert optimizer is state[2] and record is state[1]  # in place
    assert rng.uniform() == expected_draw


class InterruptOnCopy:
    """State whose copy is interrupted (a Ctrl-C in the middle of a commit)."""

    __slots__ = ()

    def __deepcopy__(self, memo):
        raise KeyboardInterrupt


def test_an_interrupt_during_a_commit_keeps_the_live_state():
    state = _training_state()
    theta, record, optimizer, rng = state
    checkpoint = EpochCheckpoint(incremental=False)
    checkpoint.commit(*state)
    _epoch(*state)  # a complete epoch, whose commit is interrupted
    expected = theta.copy()
    record.interrupt = InterruptOnCopy()
    with pytest.warns(UserWarning, match="interrupted by user"):
        try:
            checkpoint.commit(*state)
        except KeyboardInterrupt:
            checkpoint.rollback(*state)
    assert_array_equal(theta, expected)
    assert record.steps == 1


def test_on_saved_is_part_of_the_commit():
    state = _training_state()
    theta, record, optimizer, rng = state
    checkpoint = EpochCheckpoint(incremental=False)
    checkpoint.commit(*state)
    _epoch(*state)
    expected = theta.copy()

    def interrupted():
        raise KeyboardInterrupt

    with pytest.warns(UserWarning):
        try:
            checkpoint.commit(*state, on_saved=interrupted)
        except KeyboardInterrupt:
            assert checkpoint.rollback(*state) is False  # the live state is kept
    assert_array_equal(theta, expected)
    ended = []
    checkpoint.commit(*state, on_saved=lambda: ended.append(True))
    _epoch(*state)
    with pytest.warns(UserWarning):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            assert checkpoint.rollback(*state) is True
    assert ended == [True]
    assert_array_equal(theta, expected)


def test_rollback_reraises_before_any_commit():
    state = _training_state()
    checkpoint = EpochCheckpoint(incremental=False)
    _epoch(*state)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyboardInterrupt):
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                checkpoint.rollback(*state)


def test_rollback_reraises_in_partial_fit():
    state = _training_state()
    checkpoint = EpochCheckpoint(incremental=True)
    _epoch(*state)
    checkpoint.commit(*state)
    with pytest.raises(KeyboardInterrupt):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            checkpoint.rollback(*state)


def test_rollback_when_an_array_of_the_state_was_reallocated():
    state = _training_state()
    checkpoint = EpochCheckpoint(incremental=False)
    checkpoint.commit(*state)
    state[2].moment = np.ones(7)  # replaced by one of another shape
    with pytest.warns(UserWarning):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            checkpoint.rollback(*state)
    assert_array_equal(state[2].moment, np.zeros(4))


class Scratchy(State):
    """State with a workspace that is not part of it."""

    checkpoint_scratch = ("work",)

    def __init__(self, n):
        super().__init__(n)
        self.work = np.zeros(n)


def test_commits_reuse_their_copies_and_skip_scratch():
    theta, optimizer = np.zeros(10**6), Scratchy(10**6)
    checkpoint = EpochCheckpoint(incremental=False)
    checkpoint.commit(theta, optimizer)
    tracemalloc.start()
    try:
        for _ in range(3):
            theta += 1
            optimizer.moment += 2
            checkpoint.commit(theta, optimizer)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**5  # no parameter-sized array: 8 MB each
    optimizer.work += 5
    theta += 1
    optimizer.moment += 2
    with pytest.warns(UserWarning):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            checkpoint.rollback(theta, optimizer)
    assert theta[0] == 3 and optimizer.moment[0] == 6
    assert optimizer.work[0] == 5  # scratch is neither saved nor restored


# --- combined_weights ----------------------------------------------------------

CLASSES = np.array(["a", "b", "c"])
Y_ENC = np.array([0, 1, 2, 0, 1, 2, 0, 0])
X64 = np.zeros((8, 2))


@pytest.fixture(autouse=True)
def runtime_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def test_unit_weights_are_none():
    assert combined_weights(None, None, X64, Y_ENC, CLASSES, incremental=False) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_times_class_weight(dtype):
    X = X64.astype(dtype)
    sample_weight = np.arange(1.0, 9.0)
    weights = combined_weights(
        sample_weight, {"a": 2.0, "c": 0.5}, X, Y_ENC, CLASSES, incremental=False
    )
    assert weights.dtype == dtype
    assert_array_equal(weights, [2, 2, 1.5, 8, 5, 3, 14, 16])


def test_balanced_class_weight():
    weights = combined_weights(None, "balanced", X64, Y_ENC, CLASSES, incremental=False)
    expected = compute_class_weight("balanced", classes=CLASSES, y=CLASSES[Y_ENC])
    assert_array_equal(weights, expected[Y_ENC])


@pytest.mark.parametrize("bad", [-1.0, -1e20, np.nan, np.inf])
def test_class_weights_must_be_finite_and_non_negative(bad):
    with pytest.raises(
        ValueError, match=r"class_weight for class 'b' is .*finite and non-negative"
    ):
        combined_weights(None, {"b": bad}, X64, Y_ENC, CLASSES, incremental=False)


@pytest.mark.parametrize(
    "dtype, value",
    [(np.float64, 1e308), (np.float32, 1e38)],
    ids=["float64", "float32"],
)
def test_a_weight_sum_that_overflows_the_dtype(dtype, value):
    X = np.zeros((40, 2), dtype=dtype)
    y_enc = np.arange(40) % 3
    with pytest.raises(ValueError, match="sum of the sample weights .* overflows"):
        combined_weights(np.full(40, value), None, X, y_enc, CLASSES, incremental=False)


def test_weights_beyond_float32():
    X = X64.astype(np.float32)
    with pytest.raises(ValueError, match="beyond the range of float32"):
        combined_weights(np.full(8, 1e39), None, X, Y_ENC, CLASSES, incremental=False)


def test_sample_times_class_weight_that_overflows():
    with pytest.raises(ValueError, match="overflows"):
        combined_weights(
            np.full(8, 1e300), {"a": 1e300}, X64, Y_ENC, CLASSES, incremental=False
        )


def test_messages_kept_for_zero_weights_and_balanced_partial_fit():
    with pytest.raises(ValueError, match="at least one non-zero"):
        combined_weights(np.zeros(8), None, X64, Y_ENC, CLASSES, incremental=False)
    zeros = {"a": 0, "b": 0, "c": 0}
    with pytest.raises(ValueError, match="are all zero: there is nothing to fit"):
        combined_weights(None, zeros, X64, Y_ENC, CLASSES, incremental=False)
    with pytest.raises(ValueError, match="not supported by partial_fit"):
        combined_weights(None, "balanced", X64, Y_ENC, CLASSES, incremental=True)
    one_class = {"a": 1, "b": 0, "c": 0}
    with pytest.raises(ValueError, match="Only one class has a non-zero sample weight"):
        combined_weights(None, one_class, X64, Y_ENC, CLASSES, incremental=False)
    # a batch of partial_fit may hold one class
    weights = combined_weights(None, one_class, X64, Y_ENC, CLASSES, incremental=True)
    assert_array_equal(weights, Y_ENC == 0)


def test_negative_or_nan_sample_weights_keep_sklearns_messages():
    with pytest.raises(ValueError, match="Negative values"):
        combined_weights(-np.ones(8), None, X64, Y_ENC, CLASSES, incremental=False)
    with pytest.raises(ValueError, match="NaN"):
        combined_weights(
            np.full(8, np.nan), None, X64, Y_ENC, CLASSES, incremental=False
        )


# --- check_penalty_scale -------------------------------------------------------


def test_tiny_weights_name_the_weight_sum_and_sample_weight():
    with pytest.raises(ValueError) as info:
        check_penalty_scale(1e-4, 200 * 1e-100, np.float64)
    message = str(info.value)
    assert "alpha / sum(sample_weight)" in message
    assert "scale sample_weight up" in message
    assert "learning_rate_init" not in message


def test_huge_alpha_says_lower_alpha():
    with pytest.raises(ValueError, match="To fit, lower alpha") as info:
        check_penalty_scale(1e300, 200.0, np.float64)
    assert "increase" not in str(info.value)


def test_penalty_scale_bound_follows_the_dtype():
    check_penalty_scale(1e-4, 1e-12, np.float64)  # 1e8 < 1 / eps of float64
    with pytest.raises(ValueError, match="float32"):
        check_penalty_scale(1e-4, 1e-12, np.float32)


def test_ordinary_penalties_pass():
    for alpha, weight_sum in [(0.0, 0.0), (1e-4, 200.0), (100.0, 1.0), (1e-4, 1e-3)]:
        check_penalty_scale(alpha, weight_sum, np.float64)
        check_penalty_scale(alpha, weight_sum, np.float32)


def test_extreme_ratios_raise_a_value_error_only():
    with pytest.raises(ValueError, match="inf"):
        check_penalty_scale(1e300, 1e-300, np.float64)


# --- limits ----------------------------------------------------------------------


def test_training_memory_by_hand():
    # units (2, 3, 1): (2 + 1) * 3 + (3 + 1) * 1 = 13 parameters; 4 activations a row
    total, parameters, activations = training_memory((2, 3, 1), 4, np.float64)
    assert parameters == 2 * 13 * 8
    assert activations == 2 * 4 * 4 * 8
    assert total == parameters + activations
    assert training_memory((2, 3, 1), 4, np.float32, 4)[1] == 4 * 13 * 4


def test_a_network_beyond_memory_fails_before_allocating(monkeypatch):
    monkeypatch.setattr(_limits, "memory_bound", lambda: 2**30)
    with pytest.raises(ValueError) as info:
        check_network_size((8, 10**7, 3), 200, np.float64)
    message = str(info.value)
    assert "hidden_layer_sizes" in message
    assert "GiB" in message and "(1.0 GiB)" in message
    check_network_size((8, 100, 3), 200, np.float64)


def test_a_network_beyond_any_machine():
    with pytest.raises(ValueError, match="GiB"):
        check_network_size((8, 10**9, 3), 200, np.float64)


def test_memory_bound_falls_back(monkeypatch):
    assert memory_bound() > 0

    def unavailable(name):
        raise ValueError(name)

    monkeypatch.setattr(_limits.os, "sysconf", unavailable)
    assert memory_bound() == FALLBACK_MEMORY_BOUND


def test_validation_split():
    check_validation_split(0.1, 100)
    with pytest.raises(
        ValueError, match="validation_fraction=0 holds out nothing"
    ) as info:
        check_validation_split(0.0, 100)
    assert "early_stopping" in str(info.value)
    check_validation_split(0.001, 100)  # too small: refused after the split
    with pytest.raises(ValueError, match="leaves none to train on"):
        check_validation_split(0.99, 10)
