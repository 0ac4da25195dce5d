from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_layout import ModelLayout
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_dto_architecture_type_0 import ModelDtoArchitectureType0
    from ..models.model_dto_dtype_histogram import ModelDtoDtypeHistogram
    from ..models.model_dto_metadata import ModelDtoMetadata
    from ..models.model_file_dto import ModelFileDto
    from ..models.tensor_dto import TensorDto


T = TypeVar("T", bound="ModelDto")


@_attrs_define
class ModelDto:
    """A model and what whittle knows of it.

    Attributes:
        bytes_ (int):
        created_at (datetime.datetime):
        dtype_histogram (ModelDtoDtypeHistogram): Parameter count per dtype.
        format_ (str): `safetensors`, or `compressed-tensors` for quantized outputs.
        id (UUID):
        layout (ModelLayout): How a model is stored.
        metadata (ModelDtoMetadata): The file's `__metadata__`.
        n_params (int): Number of scalar parameters over all tensors.
        n_tensors (int):
        name (str):
        sha256 (str):
        architecture (ModelDtoArchitectureType0 | None | Unset): What whittle can run: an MLP (layer sizes, activations,
            task), or for a folder with
            `config.json` a transformer (`kind: transformer`, `family` encoder|decoder,
            `architecture`, sizes, `tokenizer`; `supported: false` with `field` and `reason` when
            whittle cannot run it); null otherwise.
        files (list[ModelFileDto] | None | Unset): A folder's files (omitted in lists and for single files; see `GET
            …/files`).
        source_job_id (None | Unset | UUID): The job that produced this model, if any.
        tensors (list[TensorDto] | None | Unset): Tensor inventory in file order (omitted in lists): at most
            `tensors_limit` tensors
            from `tensors_offset` (the first 10000 by default).
        tensors_next_offset (int | None | Unset): Present when the inventory has more tensors than `tensors` lists: the
            `tensors_offset` of the next page.
    """

    bytes_: int
    created_at: datetime.datetime
    dtype_histogram: ModelDtoDtypeHistogram
    format_: str
    id: UUID
    layout: ModelLayout
    metadata: ModelDtoMetadata
    n_params: int
    n_tensors: int
    name: str
    sha256: str
    architecture: ModelDtoArchitectureType0 | None | Unset = UNSET
    files: list[ModelFileDto] | None | Unset = UNSET
    source_job_id: None | Unset | UUID = UNSET
    tensors: list[TensorDto] | None | Unset = UNSET
    tensors_next_offset: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.model_dto_architecture_type_0 import ModelDtoArchitectureType0

        bytes_ = self.bytes_

        created_at = self.created_at.isoformat()

        dtype_histogram = self.dtype_histogram.to_dict()

        format_ = self.format_

        id = str(self.id)

        layout = self.layout.value

        metadata = self.metadata.to_dict()

        n_params = self.n_params

        n_tensors = self.n_tensors

        name = self.name

        sha256 = self.sha256

        architecture: dict[str, Any] | None | Unset
        if isinstance(self.architecture, Unset):
            architecture = UNSET
        elif isinstance(self.architecture, ModelDtoArchitectureType0):
            architecture = self.architecture.to_dict()
        else:
            architecture = self.architecture

        files: list[dict[str, Any]] | None | Unset
        if isinstance(self.files, Unset):
            files = UNSET
        elif isinstance(self.files, list):
            files = []
            for files_type_0_item_data in self.files:
                files_type_0_item = files_type_0_item_data.to_dict()
                files.append(files_type_0_item)

        else:
            files = self.files

        source_job_id: None | str | Unset
        if isinstance(self.source_job_id, Unset):
            source_job_id = UNSET
        elif isinstance(self.source_job_id, UUID):
            source_job_id = str(self.source_job_id)
        else:
            source_job_id = self.source_job_id

        tensors: list[dict[str, Any]] | None | Unset
        if isinstance(self.tensors, Unset):
            tensors = UNSET
        elif isinstance(self.tensors, list):
            tensors = []
            for tensors_type_0_item_data in self.tensors:
                tensors_type_0_item = tensors_type_0_item_data.to_dict()
                tensors.append(tensors_type_0_item)

        else:
            tensors = self.tensors

        tensors_next_offset: int | None | Unset
        if isinstance(self.tensors_next_offset, Unset):
            tensors_next_offset = UNSET
        else:
            tensors_next_offset = self.tensors_next_offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "created_at": created_at,
                "dtype_histogram": dtype_histogram,
                "format": format_,
                "id": id,
                "layout": layout,
                "metadata": metadata,
                "n_params": n_params,
                "n_tensors": n_tensors,
                "name": name,
                "sha256": sha256,
            }
        )
        if architecture is not UNSET:
            field_dict["architecture"] = architecture
        if files is not UNSET:
            field_dict["files"] = files
        if source_job_id is not UNSET:
            field_dict["source_job_id"] = source_job_id
        if tensors is not UNSET:
            field_dict["tensors"] = tensors
        if tensors_next_offset is not UNSET:
            field_dict["tensors_next_offset"] = tensors_next_offset

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.model_dto_architecture_type_0 import ModelDtoArchitectureType0
        from ..models.model_dto_dtype_histogram import ModelDtoDtypeHistogram
        from ..models.model_dto_metadata import ModelDtoMetadata
        from ..models.model_file_dto import ModelFileDto
        from ..models.tensor_dto import TensorDto

        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        dtype_histogram = ModelDtoDtypeHistogram.from_dict(d.pop("dtype_histogram"))

        format_ = d.pop("format")

        id = UUID(d.pop("id"))

        layout = ModelLayout(d.pop("layout"))

        metadata = ModelDtoMetadata.from_dict(d.pop("metadata"))

        n_params = d.pop("n_params")

        n_tensors = d.pop("n_tensors")

        name = d.pop("name")

        sha256 = d.pop("sha256")

        def _parse_architecture(
            data: object,
        ) -> ModelDtoArchitectureType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_0 = ModelDtoArchitectureType0.from_dict(data)

                return architecture_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ModelDtoArchitectureType0 | None | Unset, data)

        architecture = _parse_architecture(d.pop("architecture", UNSET))

        def _parse_files(data: object) -> list[ModelFileDto] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                files_type_0 = []
                _files_type_0 = data
                for files_type_0_item_data in _files_type_0:
                    files_type_0_item = ModelFileDto.from_dict(files_type_0_item_data)

                    files_type_0.append(files_type_0_item)

                return files_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ModelFileDto] | None | Unset, data)

        files = _parse_files(d.pop("files", UNSET))

        def _parse_source_job_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                source_job_id_type_0 = UUID(data)

                return source_job_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        source_job_id = _parse_source_job_id(d.pop("source_job_id", UNSET))

        def _parse_tensors(data: object) -> list[TensorDto] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                tensors_type_0 = []
                _tensors_type_0 = data
                for tensors_type_0_item_data in _tensors_type_0:
                    tensors_type_0_item = TensorDto.from_dict(tensors_type_0_item_data)

                    tensors_type_0.append(tensors_type_0_item)

                return tensors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[TensorDto] | None | Unset, data)

        tensors = _parse_tensors(d.pop("tensors", UNSET))

        def _parse_tensors_next_offset(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        tensors_next_offset = _parse_tensors_next_offset(
            d.pop("tensors_next_offset", UNSET)
        )

        model_dto = cls(
            bytes_=bytes_,
            created_at=created_at,
            dtype_histogram=dtype_histogram,
            format_=format_,
            id=id,
            layout=layout,
            metadata=metadata,
            n_params=n_params,
            n_tensors=n_tensors,
            name=name,
            sha256=sha256,
            architecture=architecture,
            files=files,
            source_job_id=source_job_id,
            tensors=tensors,
            tensors_next_offset=tensors_next_offset,
        )

        model_dto.additional_properties = d
        return model_dto

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
