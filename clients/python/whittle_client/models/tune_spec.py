from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.direction import Direction
from ..models.tune_metric import TuneMetric
from ..models.tune_spec_pruner_type_0 import TuneSpecPrunerType0
from ..models.tune_spec_sampler_type_0 import TuneSpecSamplerType0
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.train_base import TrainBase
    from ..models.tune_spec_pruner_type_1 import TuneSpecPrunerType1
    from ..models.tune_spec_pruner_type_2 import TuneSpecPrunerType2
    from ..models.tune_spec_pruner_type_3 import TuneSpecPrunerType3
    from ..models.tune_spec_sampler_type_1 import TuneSpecSamplerType1
    from ..models.tune_spec_sampler_type_2 import TuneSpecSamplerType2
    from ..models.tune_spec_sampler_type_3 import TuneSpecSamplerType3
    from ..models.tune_spec_search_space import TuneSpecSearchSpace


T = TypeVar("T", bound="TuneSpec")


@_attrs_define
class TuneSpec:
    """Spec of a `tune` job.

    Attributes:
        base (TrainBase): A train spec without `dataset_id`: the values a study's trials start from.
        dataset_id (UUID): Training data: every trial cross-validates on it, the best configuration is refit on
            all of it.
        search_space (TuneSpecSearchSpace): Parameter path → distribution:
            `{"type":"float","low","high","log"?,"step"?}`,
            `{"type":"int","low","high","log"?,"step"?}` or `{"type":"categorical","choices":[…]}`.
            Paths name train-spec fields (`optimizer.lr`, `batch_size`, `weight_decay` or
            `optimizer.weight_decay`, `architecture.hidden`, `architecture.hidden[*]` (every layer),
            `architecture.hidden[0]`, `architecture.activation`, `architecture.dropout`, …).
        cv_folds (int | None | Unset): Folds of k-fold cross-validation (stratified for classification); default 3
            unless
            `holdout_fraction` is given.
        direction (Direction | None | Unset):
        eval_dataset_id (None | Unset | UUID): Test the refit model on this dataset.
        holdout_fraction (float | None | Unset): Score on one held-out fraction of the rows instead of k folds, in (0,
            0.5].
        metric (None | TuneMetric | Unset):
        n_trials (int | None | Unset): Trials to run (default: the grid's size for `grid`, else 20; at most 1000).
        output_name (None | str | Unset): Name of the output model.
        parallelism (int | Unset): Trials running at once, spread over every worker of the queue (default 2).
        pruner (TuneSpecPrunerType0 | TuneSpecPrunerType1 | TuneSpecPrunerType2 | TuneSpecPrunerType3 | Unset): `none`
            (default), `median` or `asha`, or a `Pruner` object with its settings.
        refit (bool | Unset): Train the best configuration on all of `dataset_id` as the job's output model
            (default true).
        sampler (TuneSpecSamplerType0 | TuneSpecSamplerType1 | TuneSpecSamplerType2 | TuneSpecSamplerType3 | Unset):
            `grid`, `random` or `tpe` (default), or a `Sampler` object with its settings.
        seed (int | Unset): Seeds the sampler and the folds.
    """

    base: TrainBase
    dataset_id: UUID
    search_space: TuneSpecSearchSpace
    cv_folds: int | None | Unset = UNSET
    direction: Direction | None | Unset = UNSET
    eval_dataset_id: None | Unset | UUID = UNSET
    holdout_fraction: float | None | Unset = UNSET
    metric: None | TuneMetric | Unset = UNSET
    n_trials: int | None | Unset = UNSET
    output_name: None | str | Unset = UNSET
    parallelism: int | Unset = UNSET
    pruner: (
        TuneSpecPrunerType0
        | TuneSpecPrunerType1
        | TuneSpecPrunerType2
        | TuneSpecPrunerType3
        | Unset
    ) = UNSET
    refit: bool | Unset = UNSET
    sampler: (
        TuneSpecSamplerType0
        | TuneSpecSamplerType1
        | TuneSpecSamplerType2
        | TuneSpecSamplerType3
        | Unset
    ) = UNSET
    seed: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.tune_spec_pruner_type_1 import TuneSpecPrunerType1
        from ..models.tune_spec_pruner_type_2 import TuneSpecPrunerType2
        from ..models.tune_spec_sampler_type_1 import TuneSpecSamplerType1
        from ..models.tune_spec_sampler_type_2 import TuneSpecSamplerType2

        base = self.base.to_dict()

        dataset_id = str(self.dataset_id)

        search_space = self.search_space.to_dict()

        cv_folds: int | None | Unset
        if isinstance(self.cv_folds, Unset):
            cv_folds = UNSET
        else:
            cv_folds = self.cv_folds

        direction: None | str | Unset
        if isinstance(self.direction, Unset):
            direction = UNSET
        elif isinstance(self.direction, Direction):
            direction = self.direction.value
        else:
            direction = self.direction

        eval_dataset_id: None | str | Unset
        if isinstance(self.eval_dataset_id, Unset):
            eval_dataset_id = UNSET
        elif isinstance(self.eval_dataset_id, UUID):
            eval_dataset_id = str(self.eval_dataset_id)
        else:
            eval_dataset_id = self.eval_dataset_id

        holdout_fraction: float | None | Unset
        if isinstance(self.holdout_fraction, Unset):
            holdout_fraction = UNSET
        else:
            holdout_fraction = self.holdout_fraction

        metric: None | str | Unset
        if isinstance(self.metric, Unset):
            metric = UNSET
        elif isinstance(self.metric, TuneMetric):
            metric = self.metric.value
        else:
            metric = self.metric

        n_trials: int | None | Unset
        if isinstance(self.n_trials, Unset):
            n_trials = UNSET
        else:
            n_trials = self.n_trials

        output_name: None | str | Unset
        if isinstance(self.output_name, Unset):
            output_name = UNSET
        else:
            output_name = self.output_name

        parallelism = self.parallelism

        pruner: dict[str, Any] | str | Unset
        if isinstance(self.pruner, Unset):
            pruner = UNSET
        elif isinstance(self.pruner, TuneSpecPrunerType0):
            pruner = self.pruner.value
        elif isinstance(self.pruner, TuneSpecPrunerType1) or isinstance(
            self.pruner, TuneSpecPrunerType2
        ):
            pruner = self.pruner.to_dict()
        else:
            pruner = self.pruner.to_dict()

        refit = self.refit

        sampler: dict[str, Any] | str | Unset
        if isinstance(self.sampler, Unset):
            sampler = UNSET
        elif isinstance(self.sampler, TuneSpecSamplerType0):
            sampler = self.sampler.value
        elif isinstance(self.sampler, TuneSpecSamplerType1) or isinstance(
            self.sampler, TuneSpecSamplerType2
        ):
            sampler = self.sampler.to_dict()
        else:
            sampler = self.sampler.to_dict()

        seed = self.seed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "base": base,
                "dataset_id": dataset_id,
                "search_space": search_space,
            }
        )
        if cv_folds is not UNSET:
            field_dict["cv_folds"] = cv_folds
        if direction is not UNSET:
            field_dict["direction"] = direction
        if eval_dataset_id is not UNSET:
            field_dict["eval_dataset_id"] = eval_dataset_id
        if holdout_fraction is not UNSET:
            field_dict["holdout_fraction"] = holdout_fraction
        if metric is not UNSET:
            field_dict["metric"] = metric
        if n_trials is not UNSET:
            field_dict["n_trials"] = n_trials
        if output_name is not UNSET:
            field_dict["output_name"] = output_name
        if parallelism is not UNSET:
            field_dict["parallelism"] = parallelism
        if pruner is not UNSET:
            field_dict["pruner"] = pruner
        if refit is not UNSET:
            field_dict["refit"] = refit
        if sampler is not UNSET:
            field_dict["sampler"] = sampler
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.train_base import TrainBase
        from ..models.tune_spec_pruner_type_1 import TuneSpecPrunerType1
        from ..models.tune_spec_pruner_type_2 import TuneSpecPrunerType2
        from ..models.tune_spec_pruner_type_3 import TuneSpecPrunerType3
        from ..models.tune_spec_sampler_type_1 import TuneSpecSamplerType1
        from ..models.tune_spec_sampler_type_2 import TuneSpecSamplerType2
        from ..models.tune_spec_sampler_type_3 import TuneSpecSamplerType3
        from ..models.tune_spec_search_space import TuneSpecSearchSpace

        d = dict(src_dict)
        base = TrainBase.from_dict(d.pop("base"))

        dataset_id = UUID(d.pop("dataset_id"))

        search_space = TuneSpecSearchSpace.from_dict(d.pop("search_space"))

        def _parse_cv_folds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cv_folds = _parse_cv_folds(d.pop("cv_folds", UNSET))

        def _parse_direction(data: object) -> Direction | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                direction_type_1 = Direction(data)

                return direction_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Direction | None | Unset, data)

        direction = _parse_direction(d.pop("direction", UNSET))

        def _parse_eval_dataset_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                eval_dataset_id_type_0 = UUID(data)

                return eval_dataset_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        eval_dataset_id = _parse_eval_dataset_id(d.pop("eval_dataset_id", UNSET))

        def _parse_holdout_fraction(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        holdout_fraction = _parse_holdout_fraction(d.pop("holdout_fraction", UNSET))

        def _parse_metric(data: object) -> None | TuneMetric | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                metric_type_1 = TuneMetric(data)

                return metric_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TuneMetric | Unset, data)

        metric = _parse_metric(d.pop("metric", UNSET))

        def _parse_n_trials(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        n_trials = _parse_n_trials(d.pop("n_trials", UNSET))

        def _parse_output_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output_name = _parse_output_name(d.pop("output_name", UNSET))

        parallelism = d.pop("parallelism", UNSET)

        def _parse_pruner(
            data: object,
        ) -> (
            TuneSpecPrunerType0
            | TuneSpecPrunerType1
            | TuneSpecPrunerType2
            | TuneSpecPrunerType3
            | Unset
        ):
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pruner_type_0 = TuneSpecPrunerType0(data)

                return pruner_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pruner_type_1 = TuneSpecPrunerType1.from_dict(data)

                return pruner_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pruner_type_2 = TuneSpecPrunerType2.from_dict(data)

                return pruner_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            pruner_type_3 = TuneSpecPrunerType3.from_dict(data)

            return pruner_type_3

        pruner = _parse_pruner(d.pop("pruner", UNSET))

        refit = d.pop("refit", UNSET)

        def _parse_sampler(
            data: object,
        ) -> (
            TuneSpecSamplerType0
            | TuneSpecSamplerType1
            | TuneSpecSamplerType2
            | TuneSpecSamplerType3
            | Unset
        ):
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sampler_type_0 = TuneSpecSamplerType0(data)

                return sampler_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sampler_type_1 = TuneSpecSamplerType1.from_dict(data)

                return sampler_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sampler_type_2 = TuneSpecSamplerType2.from_dict(data)

                return sampler_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            sampler_type_3 = TuneSpecSamplerType3.from_dict(data)

            return sampler_type_3

        sampler = _parse_sampler(d.pop("sampler", UNSET))

        seed = d.pop("seed", UNSET)

        tune_spec = cls(
            base=base,
            dataset_id=dataset_id,
            search_space=search_space,
            cv_folds=cv_folds,
            direction=direction,
            eval_dataset_id=eval_dataset_id,
            holdout_fraction=holdout_fraction,
            metric=metric,
            n_trials=n_trials,
            output_name=output_name,
            parallelism=parallelism,
            pruner=pruner,
            refit=refit,
            sampler=sampler,
            seed=seed,
        )

        return tune_spec
