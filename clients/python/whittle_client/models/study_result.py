from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.direction import Direction
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fit_result_classification import FitResultClassification
    from ..models.fit_result_regression import FitResultRegression
    from ..models.model_evaluation_classification import ModelEvaluationClassification
    from ..models.model_evaluation_regression import ModelEvaluationRegression
    from ..models.study_result_best_params import StudyResultBestParams
    from ..models.study_result_pruner_type_1 import StudyResultPrunerType1
    from ..models.study_result_pruner_type_2 import StudyResultPrunerType2
    from ..models.study_result_pruner_type_3 import StudyResultPrunerType3
    from ..models.study_result_sampler_type_1 import StudyResultSamplerType1
    from ..models.study_result_sampler_type_2 import StudyResultSamplerType2
    from ..models.study_result_sampler_type_3 import StudyResultSamplerType3
    from ..models.train_spec import TrainSpec


T = TypeVar("T", bound="StudyResult")


@_attrs_define
class StudyResult:
    """The result of a `tune` job.

    Attributes:
        best_params (StudyResultBestParams):
        best_trial (int):
        direction (Direction): Whether the objective is minimized or maximized.
        epochs_budget (int): Epochs the trials would have trained without pruning (per fold).
        epochs_trained (int): Epochs the trials trained (per fold), pruned ones stopping early.
        metric (str):
        n_trials (int):
        search_seconds (float):
        trials_complete (int):
        trials_failed (int):
        trials_pruned (int):
        best_train_spec (None | TrainSpec | Unset):
        best_value (float | None | Unset):
        cv_folds (int | None | Unset):
        holdout_fraction (float | None | Unset):
        pruner (None | StudyResultPrunerType1 | StudyResultPrunerType2 | StudyResultPrunerType3 | Unset):
        refit (FitResultClassification | FitResultRegression | None | Unset):
        sampler (None | StudyResultSamplerType1 | StudyResultSamplerType2 | StudyResultSamplerType3 | Unset):
        seconds (float | None | Unset): Search and refit.
        test (ModelEvaluationClassification | ModelEvaluationRegression | None | Unset):
    """

    best_params: StudyResultBestParams
    best_trial: int
    direction: Direction
    epochs_budget: int
    epochs_trained: int
    metric: str
    n_trials: int
    search_seconds: float
    trials_complete: int
    trials_failed: int
    trials_pruned: int
    best_train_spec: None | TrainSpec | Unset = UNSET
    best_value: float | None | Unset = UNSET
    cv_folds: int | None | Unset = UNSET
    holdout_fraction: float | None | Unset = UNSET
    pruner: (
        None
        | StudyResultPrunerType1
        | StudyResultPrunerType2
        | StudyResultPrunerType3
        | Unset
    ) = UNSET
    refit: FitResultClassification | FitResultRegression | None | Unset = UNSET
    sampler: (
        None
        | StudyResultSamplerType1
        | StudyResultSamplerType2
        | StudyResultSamplerType3
        | Unset
    ) = UNSET
    seconds: float | None | Unset = UNSET
    test: ModelEvaluationClassification | ModelEvaluationRegression | None | Unset = (
        UNSET
    )
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fit_result_classification import FitResultClassification
        from ..models.fit_result_regression import FitResultRegression
        from ..models.model_evaluation_classification import (
            ModelEvaluationClassification,
        )
        from ..models.model_evaluation_regression import ModelEvaluationRegression
        from ..models.study_result_pruner_type_1 import StudyResultPrunerType1
        from ..models.study_result_pruner_type_2 import StudyResultPrunerType2
        from ..models.study_result_pruner_type_3 import StudyResultPrunerType3
        from ..models.study_result_sampler_type_1 import StudyResultSamplerType1
        from ..models.study_result_sampler_type_2 import StudyResultSamplerType2
        from ..models.study_result_sampler_type_3 import StudyResultSamplerType3
        from ..models.train_spec import TrainSpec

        best_params = self.best_params.to_dict()

        best_trial = self.best_trial

        direction = self.direction.value

        epochs_budget = self.epochs_budget

        epochs_trained = self.epochs_trained

        metric = self.metric

        n_trials = self.n_trials

        search_seconds = self.search_seconds

        trials_complete = self.trials_complete

        trials_failed = self.trials_failed

        trials_pruned = self.trials_pruned

        best_train_spec: dict[str, Any] | None | Unset
        if isinstance(self.best_train_spec, Unset):
            best_train_spec = UNSET
        elif isinstance(self.best_train_spec, TrainSpec):
            best_train_spec = self.best_train_spec.to_dict()
        else:
            best_train_spec = self.best_train_spec

        best_value: float | None | Unset
        if isinstance(self.best_value, Unset):
            best_value = UNSET
        else:
            best_value = self.best_value

        cv_folds: int | None | Unset
        if isinstance(self.cv_folds, Unset):
            cv_folds = UNSET
        else:
            cv_folds = self.cv_folds

        holdout_fraction: float | None | Unset
        if isinstance(self.holdout_fraction, Unset):
            holdout_fraction = UNSET
        else:
            holdout_fraction = self.holdout_fraction

        pruner: dict[str, Any] | None | Unset
        if isinstance(self.pruner, Unset):
            pruner = UNSET
        elif (
            isinstance(self.pruner, StudyResultPrunerType1)
            or isinstance(self.pruner, StudyResultPrunerType2)
            or isinstance(self.pruner, StudyResultPrunerType3)
        ):
            pruner = self.pruner.to_dict()
        else:
            pruner = self.pruner

        refit: dict[str, Any] | None | Unset
        if isinstance(self.refit, Unset):
            refit = UNSET
        elif isinstance(self.refit, FitResultClassification) or isinstance(
            self.refit, FitResultRegression
        ):
            refit = self.refit.to_dict()
        else:
            refit = self.refit

        sampler: dict[str, Any] | None | Unset
        if isinstance(self.sampler, Unset):
            sampler = UNSET
        elif (
            isinstance(self.sampler, StudyResultSamplerType1)
            or isinstance(self.sampler, StudyResultSamplerType2)
            or isinstance(self.sampler, StudyResultSamplerType3)
        ):
            sampler = self.sampler.to_dict()
        else:
            sampler = self.sampler

        seconds: float | None | Unset
        if isinstance(self.seconds, Unset):
            seconds = UNSET
        else:
            seconds = self.seconds

        test: dict[str, Any] | None | Unset
        if isinstance(self.test, Unset):
            test = UNSET
        elif isinstance(self.test, ModelEvaluationClassification) or isinstance(
            self.test, ModelEvaluationRegression
        ):
            test = self.test.to_dict()
        else:
            test = self.test

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "best_params": best_params,
                "best_trial": best_trial,
                "direction": direction,
                "epochs_budget": epochs_budget,
                "epochs_trained": epochs_trained,
                "metric": metric,
                "n_trials": n_trials,
                "search_seconds": search_seconds,
                "trials_complete": trials_complete,
                "trials_failed": trials_failed,
                "trials_pruned": trials_pruned,
            }
        )
        if best_train_spec is not UNSET:
            field_dict["best_train_spec"] = best_train_spec
        if best_value is not UNSET:
            field_dict["best_value"] = best_value
        if cv_folds is not UNSET:
            field_dict["cv_folds"] = cv_folds
        if holdout_fraction is not UNSET:
            field_dict["holdout_fraction"] = holdout_fraction
        if pruner is not UNSET:
            field_dict["pruner"] = pruner
        if refit is not UNSET:
            field_dict["refit"] = refit
        if sampler is not UNSET:
            field_dict["sampler"] = sampler
        if seconds is not UNSET:
            field_dict["seconds"] = seconds
        if test is not UNSET:
            field_dict["test"] = test

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.fit_result_classification import FitResultClassification
        from ..models.fit_result_regression import FitResultRegression
        from ..models.model_evaluation_classification import (
            ModelEvaluationClassification,
        )
        from ..models.model_evaluation_regression import ModelEvaluationRegression
        from ..models.study_result_best_params import StudyResultBestParams
        from ..models.study_result_pruner_type_1 import StudyResultPrunerType1
        from ..models.study_result_pruner_type_2 import StudyResultPrunerType2
        from ..models.study_result_pruner_type_3 import StudyResultPrunerType3
        from ..models.study_result_sampler_type_1 import StudyResultSamplerType1
        from ..models.study_result_sampler_type_2 import StudyResultSamplerType2
        from ..models.study_result_sampler_type_3 import StudyResultSamplerType3
        from ..models.train_spec import TrainSpec

        d = dict(src_dict)
        best_params = StudyResultBestParams.from_dict(d.pop("best_params"))

        best_trial = d.pop("best_trial")

        direction = Direction(d.pop("direction"))

        epochs_budget = d.pop("epochs_budget")

        epochs_trained = d.pop("epochs_trained")

        metric = d.pop("metric")

        n_trials = d.pop("n_trials")

        search_seconds = d.pop("search_seconds")

        trials_complete = d.pop("trials_complete")

        trials_failed = d.pop("trials_failed")

        trials_pruned = d.pop("trials_pruned")

        def _parse_best_train_spec(data: object) -> None | TrainSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                best_train_spec_type_1 = TrainSpec.from_dict(data)

                return best_train_spec_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TrainSpec | Unset, data)

        best_train_spec = _parse_best_train_spec(d.pop("best_train_spec", UNSET))

        def _parse_best_value(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        best_value = _parse_best_value(d.pop("best_value", UNSET))

        def _parse_cv_folds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cv_folds = _parse_cv_folds(d.pop("cv_folds", UNSET))

        def _parse_holdout_fraction(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        holdout_fraction = _parse_holdout_fraction(d.pop("holdout_fraction", UNSET))

        def _parse_pruner(
            data: object,
        ) -> (
            None
            | StudyResultPrunerType1
            | StudyResultPrunerType2
            | StudyResultPrunerType3
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pruner_type_1 = StudyResultPrunerType1.from_dict(data)

                return pruner_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pruner_type_2 = StudyResultPrunerType2.from_dict(data)

                return pruner_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pruner_type_3 = StudyResultPrunerType3.from_dict(data)

                return pruner_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | StudyResultPrunerType1
                | StudyResultPrunerType2
                | StudyResultPrunerType3
                | Unset,
                data,
            )

        pruner = _parse_pruner(d.pop("pruner", UNSET))

        def _parse_refit(
            data: object,
        ) -> FitResultClassification | FitResultRegression | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                refit_type_1 = FitResultClassification.from_dict(data)

                return refit_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                refit_type_2 = FitResultRegression.from_dict(data)

                return refit_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                FitResultClassification | FitResultRegression | None | Unset, data
            )

        refit = _parse_refit(d.pop("refit", UNSET))

        def _parse_sampler(
            data: object,
        ) -> (
            None
            | StudyResultSamplerType1
            | StudyResultSamplerType2
            | StudyResultSamplerType3
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sampler_type_1 = StudyResultSamplerType1.from_dict(data)

                return sampler_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sampler_type_2 = StudyResultSamplerType2.from_dict(data)

                return sampler_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sampler_type_3 = StudyResultSamplerType3.from_dict(data)

                return sampler_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | StudyResultSamplerType1
                | StudyResultSamplerType2
                | StudyResultSamplerType3
                | Unset,
                data,
            )

        sampler = _parse_sampler(d.pop("sampler", UNSET))

        def _parse_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        seconds = _parse_seconds(d.pop("seconds", UNSET))

        def _parse_test(
            data: object,
        ) -> ModelEvaluationClassification | ModelEvaluationRegression | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                test_type_1 = ModelEvaluationClassification.from_dict(data)

                return test_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                test_type_2 = ModelEvaluationRegression.from_dict(data)

                return test_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                ModelEvaluationClassification
                | ModelEvaluationRegression
                | None
                | Unset,
                data,
            )

        test = _parse_test(d.pop("test", UNSET))

        study_result = cls(
            best_params=best_params,
            best_trial=best_trial,
            direction=direction,
            epochs_budget=epochs_budget,
            epochs_trained=epochs_trained,
            metric=metric,
            n_trials=n_trials,
            search_seconds=search_seconds,
            trials_complete=trials_complete,
            trials_failed=trials_failed,
            trials_pruned=trials_pruned,
            best_train_spec=best_train_spec,
            best_value=best_value,
            cv_folds=cv_folds,
            holdout_fraction=holdout_fraction,
            pruner=pruner,
            refit=refit,
            sampler=sampler,
            seconds=seconds,
            test=test,
        )

        study_result.additional_properties = d
        return study_result

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
