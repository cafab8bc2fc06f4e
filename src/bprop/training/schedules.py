"""Learning-rate schedules and stopping rules, with all their state in the History.

* "step": η·gamma every ``step_size`` epochs (:func:`eta_for`);
* "plateau", the book's chapter 3 rule: halve η after ``patience`` epochs without a better
  validation accuracy, stop once η has fallen to 1/``min_eta_factor`` of its start;
* early stopping: stop when the monitored value has not improved for ``patience`` epochs,
  and put the best epoch's weights back (:func:`restore_best`).

:func:`track` applies the rules after each epoch. Their state (``history.state``,
``history.best_params``) is what a checkpoint saves, so a resumed run continues exactly;
:func:`stopped_for_good` says whether a resumed run would only stop again at once.
"""

from __future__ import annotations

from .history import STOPPED_BY_CALLBACK


def eta_for(j, config, history):
    """η for epoch j: the schedule's value, or what the plateau rule has left it at."""
    if config.schedule == "step":
        return config.eta * config.gamma ** (j // config.step_size)
    return history.state.get("eta", config.eta)


def track(net, record, config, history):
    """Note the best epoch, apply the plateau rule, decide early stopping (True: stop)."""
    if record.val_accuracy is None:
        return False
    state = history.state
    score = -record.val_cost if config.monitor == "val_cost" else record.val_accuracy
    if "best_score" not in state or score > state["best_score"]:
        state["best_score"], state["since_best"] = score, 0
        history.best_epoch = record.epoch
        if config.early_stopping:
            history.best_params = [p.copy() for p in (*net.weights, *net.biases)]
    else:
        state["since_best"] += 1
    if config.schedule == "plateau":
        # the book's rule: halve eta after `patience` epochs without a better accuracy
        if record.val_accuracy > state.get("plateau_best", -1.0):
            state["plateau_best"], state["plateau_wait"] = record.val_accuracy, 0
        else:
            state["plateau_wait"] += 1
            if state["plateau_wait"] >= config.patience:
                state["eta"] = state.get("eta", config.eta) / 2.0
                state["plateau_wait"] = 0
                if _eta_at_its_limit(state, config):
                    history.stopped_early = (
                        f"eta fell to 1/{_shown(config.eta / state['eta'])} of its start, "
                        f"the plateau schedule's limit 1/{_shown(config.min_eta_factor)}")
                    return True
    if _out_of_patience(state, config):
        history.stopped_early = f"no improvement in {config.monitor} for {config.patience} epochs"
        return True
    return False


def restore_best(net, config, history):
    """Early stopping's last step: the best epoch's weights back into the network."""
    if config.early_stopping and history.best_params is not None:
        for dst, src in zip((*net.weights, *net.biases), history.best_params):
            dst[...] = src


def stopping_rule_met(history, config):
    """The stopping rule a run's state meets under ``config``: "patience" (early stopping:
    no better epoch for ``patience`` epochs), "min_eta_factor" (the plateau schedule has
    halved η down to its limit), or None. A resumed run that meets one stops at once."""
    if _out_of_patience(history.state, config):
        return "patience"
    if _eta_at_its_limit(history.state, config):
        return "min_eta_factor"
    return None


def stopped_for_good(history, config):
    """For a run that early stopping or the plateau schedule's limit stopped, and that
    ``config`` would stop again at once (as the uninterrupted run stayed stopped): the
    setting that would let it go on ("patience" or "min_eta_factor"). Else None; a run
    stopped by a callback goes on."""
    if not history.stopped_early or history.stopped_early == STOPPED_BY_CALLBACK:
        return None
    return stopping_rule_met(history, config)


def _out_of_patience(state, config):
    return config.early_stopping and state.get("since_best", 0) >= config.patience


def _eta_at_its_limit(state, config):
    return config.schedule == "plateau" and \
        state.get("eta", config.eta) <= config.eta / config.min_eta_factor


def _shown(x):
    """x as short as it reads exactly: 128, 1.0000001, 1048576 (not 128.0 or 1.04858e+06)."""
    x = float(x)
    return f"{x:.0f}" if x.is_integer() and abs(x) < 1e16 else repr(x)
