"""Contains all the data models used in inputs/outputs"""

from .activation import Activation
from .analyze_job import AnalyzeJob
from .analyze_job_kind import AnalyzeJobKind
from .analyze_job_request import AnalyzeJobRequest
from .analyze_result import AnalyzeResult
from .analyze_spec import AnalyzeSpec
from .architecture_spec import ArchitectureSpec
from .attempt import Attempt
from .attempt_error import AttemptError
from .calibration_report import CalibrationReport
from .cancel_requested_data import CancelRequestedData
from .class_metrics import ClassMetrics
from .compressed_format_spec import CompressedFormatSpec
from .create_webhook_request import CreateWebhookRequest
from .dataset_dto import DatasetDto
from .dataset_format import DatasetFormat
from .dataset_page import DatasetPage
from .delivery_attempt_dto import DeliveryAttemptDto
from .delivery_dto import DeliveryDto
from .delivery_page import DeliveryPage
from .direction import Direction
from .distribution_type_0 import DistributionType0
from .distribution_type_0_type import DistributionType0Type
from .distribution_type_1 import DistributionType1
from .distribution_type_1_type import DistributionType1Type
from .distribution_type_2 import DistributionType2
from .distribution_type_2_type import DistributionType2Type
from .early_stopping import EarlyStopping
from .embedding_fidelity import EmbeddingFidelity
from .ended_data import EndedData
from .eval_fields import EvalFields
from .evaluate_job import EvaluateJob
from .evaluate_job_kind import EvaluateJobKind
from .evaluate_job_request import EvaluateJobRequest
from .evaluate_result_classification import EvaluateResultClassification
from .evaluate_result_classification_task import EvaluateResultClassificationTask
from .evaluate_result_regression import EvaluateResultRegression
from .evaluate_result_regression_task import EvaluateResultRegressionTask
from .evaluate_result_text_evaluation import EvaluateResultTextEvaluation
from .evaluate_spec import EvaluateSpec
from .evaluation_summary_classification import EvaluationSummaryClassification
from .evaluation_summary_regression import EvaluationSummaryRegression
from .event_payload_type_0 import EventPayloadType0
from .event_payload_type_0_type import EventPayloadType0Type
from .event_payload_type_1 import EventPayloadType1
from .event_payload_type_1_type import EventPayloadType1Type
from .event_payload_type_2 import EventPayloadType2
from .event_payload_type_2_type import EventPayloadType2Type
from .event_payload_type_3 import EventPayloadType3
from .event_payload_type_3_type import EventPayloadType3Type
from .event_payload_type_4 import EventPayloadType4
from .event_payload_type_4_type import EventPayloadType4Type
from .event_payload_type_5 import EventPayloadType5
from .event_payload_type_5_type import EventPayloadType5Type
from .event_payload_type_6 import EventPayloadType6
from .event_payload_type_6_type import EventPayloadType6Type
from .event_payload_type_7 import EventPayloadType7
from .event_payload_type_7_type import EventPayloadType7Type
from .event_payload_type_8 import EventPayloadType8
from .event_payload_type_8_type import EventPayloadType8Type
from .event_payload_type_9 import EventPayloadType9
from .event_payload_type_9_type import EventPayloadType9Type
from .field_error import FieldError
from .finetune_report import FinetuneReport
from .finetune_spec import FinetuneSpec
from .fit_result_classification import FitResultClassification
from .fit_result_regression import FitResultRegression
from .gptq_report import GptqReport
from .gradual_round import GradualRound
from .gradual_spec import GradualSpec
from .granularity_spec import GranularitySpec
from .headline_fit_type_0 import HeadlineFitType0
from .headline_fit_type_1 import HeadlineFitType1
from .health import Health
from .histogram import Histogram
from .huber_loss import HuberLoss
from .init import Init
from .job_event_cancel_requested import JobEventCancelRequested
from .job_event_cancel_requested_type import JobEventCancelRequestedType
from .job_event_canceled import JobEventCanceled
from .job_event_canceled_type import JobEventCanceledType
from .job_event_failed import JobEventFailed
from .job_event_failed_type import JobEventFailedType
from .job_event_metric import JobEventMetric
from .job_event_metric_type import JobEventMetricType
from .job_event_progress import JobEventProgress
from .job_event_progress_type import JobEventProgressType
from .job_event_queued import JobEventQueued
from .job_event_queued_type import JobEventQueuedType
from .job_event_retry_scheduled import JobEventRetryScheduled
from .job_event_retry_scheduled_type import JobEventRetryScheduledType
from .job_event_running import JobEventRunning
from .job_event_running_type import JobEventRunningType
from .job_event_succeeded import JobEventSucceeded
from .job_event_succeeded_type import JobEventSucceededType
from .job_event_trial import JobEventTrial
from .job_event_trial_type import JobEventTrialType
from .job_kind import JobKind
from .job_metrics_dto import JobMetricsDto
from .job_metrics_dto_series import JobMetricsDtoSeries
from .job_page import JobPage
from .job_state import JobState
from .layer_error import LayerError
from .layer_report import LayerReport
from .left_in_float import LeftInFloat
from .list_jobs_kind import ListJobsKind
from .loss_type_0 import LossType0
from .loss_type_1 import LossType1
from .loss_type_2 import LossType2
from .loss_type_3 import LossType3
from .loss_type_4 import LossType4
from .lr_decay_type_0 import LrDecayType0
from .lr_decay_type_0_kind import LrDecayType0Kind
from .lr_decay_type_1 import LrDecayType1
from .lr_decay_type_1_kind import LrDecayType1Kind
from .lr_decay_type_2 import LrDecayType2
from .lr_decay_type_2_kind import LrDecayType2Kind
from .lr_schedule import LrSchedule
from .method_spec import MethodSpec
from .metric_data import MetricData
from .metrics_type_0 import MetricsType0
from .metrics_type_0_task import MetricsType0Task
from .metrics_type_1 import MetricsType1
from .metrics_type_1_task import MetricsType1Task
from .model_dto import ModelDto
from .model_dto_architecture_type_0 import ModelDtoArchitectureType0
from .model_dto_dtype_histogram import ModelDtoDtypeHistogram
from .model_dto_metadata import ModelDtoMetadata
from .model_evaluation_classification import ModelEvaluationClassification
from .model_evaluation_classification_task import ModelEvaluationClassificationTask
from .model_evaluation_regression import ModelEvaluationRegression
from .model_evaluation_regression_task import ModelEvaluationRegressionTask
from .model_file_dto import ModelFileDto
from .model_files_dto import ModelFilesDto
from .model_layout import ModelLayout
from .model_page import ModelPage
from .model_totals import ModelTotals
from .model_upload_form import ModelUploadForm
from .module_group import ModuleGroup
from .monitor import Monitor
from .norm import Norm
from .onnx_export import OnnxExport
from .onnx_ops_spec import OnnxOpsSpec
from .optimizer_config_type_0 import OptimizerConfigType0
from .optimizer_config_type_0_kind import OptimizerConfigType0Kind
from .optimizer_config_type_1 import OptimizerConfigType1
from .optimizer_config_type_1_kind import OptimizerConfigType1Kind
from .optimizer_config_type_2 import OptimizerConfigType2
from .optimizer_config_type_2_kind import OptimizerConfigType2Kind
from .optimizer_config_type_3 import OptimizerConfigType3
from .optimizer_config_type_3_kind import OptimizerConfigType3Kind
from .output_dtype_spec import OutputDtypeSpec
from .output_spec import OutputSpec
from .pass_summary import PassSummary
from .problem import Problem
from .progress_data import ProgressData
from .prune_finetune_spec import PruneFinetuneSpec
from .prune_job import PruneJob
from .prune_job_kind import PruneJobKind
from .prune_job_request import PruneJobRequest
from .prune_method import PruneMethod
from .prune_result_quality_fields import PruneResultQualityFields
from .prune_result_text_quality_fields import PruneResultTextQualityFields
from .prune_result_unrated import PruneResultUnrated
from .prune_spec import PruneSpec
from .pruner_type_0 import PrunerType0
from .pruner_type_0_type import PrunerType0Type
from .pruner_type_1 import PrunerType1
from .pruner_type_1_type import PrunerType1Type
from .pruner_type_2 import PrunerType2
from .pruner_type_2_type import PrunerType2Type
from .qat_report import QatReport
from .quality_change import QualityChange
from .quality_fields import QualityFields
from .quantize_job import QuantizeJob
from .quantize_job_kind import QuantizeJobKind
from .quantize_job_request import QuantizeJobRequest
from .quantize_result_eval_fields import QuantizeResultEvalFields
from .quantize_result_unrated import QuantizeResultUnrated
from .quantize_spec import QuantizeSpec
from .queued_data import QueuedData
from .recommendation import Recommendation
from .reference_comparison import ReferenceComparison
from .retry_scheduled_data import RetryScheduledData
from .rule_fields import RuleFields
from .run_stats import RunStats
from .running_data import RunningData
from .sampler_type_0 import SamplerType0
from .sampler_type_0_type import SamplerType0Type
from .sampler_type_1 import SamplerType1
from .sampler_type_1_type import SamplerType1Type
from .sampler_type_2 import SamplerType2
from .sampler_type_2_type import SamplerType2Type
from .scale_dtype_spec import ScaleDtypeSpec
from .scheme_report import SchemeReport
from .scheme_spec import SchemeSpec
from .scope import Scope
from .series_point import SeriesPoint
from .skipped_tensor import SkippedTensor
from .sparsity import Sparsity
from .study_result import StudyResult
from .study_result_best_params import StudyResultBestParams
from .study_result_pruner_type_1 import StudyResultPrunerType1
from .study_result_pruner_type_1_type import StudyResultPrunerType1Type
from .study_result_pruner_type_2 import StudyResultPrunerType2
from .study_result_pruner_type_2_type import StudyResultPrunerType2Type
from .study_result_pruner_type_3 import StudyResultPrunerType3
from .study_result_pruner_type_3_type import StudyResultPrunerType3Type
from .study_result_sampler_type_1 import StudyResultSamplerType1
from .study_result_sampler_type_1_type import StudyResultSamplerType1Type
from .study_result_sampler_type_2 import StudyResultSamplerType2
from .study_result_sampler_type_2_type import StudyResultSamplerType2Type
from .study_result_sampler_type_3 import StudyResultSamplerType3
from .study_result_sampler_type_3_type import StudyResultSamplerType3Type
from .succeeded_data import SucceededData
from .summary_metrics_type_0 import SummaryMetricsType0
from .summary_metrics_type_1 import SummaryMetricsType1
from .task_kind import TaskKind
from .tenant_dto import TenantDto
from .tenant_quotas import TenantQuotas
from .tenant_usage_dto import TenantUsageDto
from .tensor_analysis import TensorAnalysis
from .tensor_dto import TensorDto
from .tensor_pruned import TensorPruned
from .tensor_report import TensorReport
from .tensor_role import TensorRole
from .tensor_stats import TensorStats
from .text_classification import TextClassification
from .text_evaluation import TextEvaluation
from .text_pooling import TextPooling
from .text_quality_change import TextQualityChange
from .text_quality_fields import TextQualityFields
from .tpe_config import TpeConfig
from .train_base import TrainBase
from .train_base_loss_type_1 import TrainBaseLossType1
from .train_base_loss_type_2 import TrainBaseLossType2
from .train_base_loss_type_3 import TrainBaseLossType3
from .train_base_loss_type_4 import TrainBaseLossType4
from .train_base_loss_type_5 import TrainBaseLossType5
from .train_job import TrainJob
from .train_job_kind import TrainJobKind
from .train_job_request import TrainJobRequest
from .train_spec import TrainSpec
from .train_spec_loss_type_1 import TrainSpecLossType1
from .train_spec_loss_type_2 import TrainSpecLossType2
from .train_spec_loss_type_3 import TrainSpecLossType3
from .train_spec_loss_type_4 import TrainSpecLossType4
from .train_spec_loss_type_5 import TrainSpecLossType5
from .trial_data import TrialData
from .trial_data_params import TrialDataParams
from .trial_dto import TrialDto
from .trial_dto_params import TrialDtoParams
from .trial_job import TrialJob
from .trial_job_kind import TrialJobKind
from .trial_job_spec import TrialJobSpec
from .trial_page import TrialPage
from .trial_result import TrialResult
from .trial_result_params import TrialResultParams
from .tune_job import TuneJob
from .tune_job_kind import TuneJobKind
from .tune_job_request import TuneJobRequest
from .tune_metric import TuneMetric
from .tune_spec import TuneSpec
from .tune_spec_pruner_type_0 import TuneSpecPrunerType0
from .tune_spec_pruner_type_1 import TuneSpecPrunerType1
from .tune_spec_pruner_type_1_type import TuneSpecPrunerType1Type
from .tune_spec_pruner_type_2 import TuneSpecPrunerType2
from .tune_spec_pruner_type_2_type import TuneSpecPrunerType2Type
from .tune_spec_pruner_type_3 import TuneSpecPrunerType3
from .tune_spec_pruner_type_3_type import TuneSpecPrunerType3Type
from .tune_spec_sampler_type_0 import TuneSpecSamplerType0
from .tune_spec_sampler_type_1 import TuneSpecSamplerType1
from .tune_spec_sampler_type_1_type import TuneSpecSamplerType1Type
from .tune_spec_sampler_type_2 import TuneSpecSamplerType2
from .tune_spec_sampler_type_2_type import TuneSpecSamplerType2Type
from .tune_spec_sampler_type_3 import TuneSpecSamplerType3
from .tune_spec_sampler_type_3_type import TuneSpecSamplerType3Type
from .tune_spec_search_space import TuneSpecSearchSpace
from .update_webhook_request import UpdateWebhookRequest
from .upload_dataset_task import UploadDatasetTask
from .validation_spec import ValidationSpec
from .webhook_dto import WebhookDto
from .webhook_page import WebhookPage
from .webhook_payload import WebhookPayload
from .webhook_with_secret import WebhookWithSecret
from .weight_op import WeightOp

__all__ = (
    "Activation",
    "AnalyzeJob",
    "AnalyzeJobKind",
    "AnalyzeJobRequest",
    "AnalyzeResult",
    "AnalyzeSpec",
    "ArchitectureSpec",
    "Attempt",
    "AttemptError",
    "CalibrationReport",
    "CancelRequestedData",
    "ClassMetrics",
    "CompressedFormatSpec",
    "CreateWebhookRequest",
    "DatasetDto",
    "DatasetFormat",
    "DatasetPage",
    "DeliveryAttemptDto",
    "DeliveryDto",
    "DeliveryPage",
    "Direction",
    "DistributionType0",
    "DistributionType0Type",
    "DistributionType1",
    "DistributionType1Type",
    "DistributionType2",
    "DistributionType2Type",
    "EarlyStopping",
    "EmbeddingFidelity",
    "EndedData",
    "EvalFields",
    "EvaluateJob",
    "EvaluateJobKind",
    "EvaluateJobRequest",
    "EvaluateResultClassification",
    "EvaluateResultClassificationTask",
    "EvaluateResultRegression",
    "EvaluateResultRegressionTask",
    "EvaluateResultTextEvaluation",
    "EvaluateSpec",
    "EvaluationSummaryClassification",
    "EvaluationSummaryRegression",
    "EventPayloadType0",
    "EventPayloadType0Type",
    "EventPayloadType1",
    "EventPayloadType1Type",
    "EventPayloadType2",
    "EventPayloadType2Type",
    "EventPayloadType3",
    "EventPayloadType3Type",
    "EventPayloadType4",
    "EventPayloadType4Type",
    "EventPayloadType5",
    "EventPayloadType5Type",
    "EventPayloadType6",
    "EventPayloadType6Type",
    "EventPayloadType7",
    "EventPayloadType7Type",
    "EventPayloadType8",
    "EventPayloadType8Type",
    "EventPayloadType9",
    "EventPayloadType9Type",
    "FieldError",
    "FinetuneReport",
    "FinetuneSpec",
    "FitResultClassification",
    "FitResultRegression",
    "GptqReport",
    "GradualRound",
    "GradualSpec",
    "GranularitySpec",
    "HeadlineFitType0",
    "HeadlineFitType1",
    "Health",
    "Histogram",
    "HuberLoss",
    "Init",
    "JobEventCancelRequested",
    "JobEventCancelRequestedType",
    "JobEventCanceled",
    "JobEventCanceledType",
    "JobEventFailed",
    "JobEventFailedType",
    "JobEventMetric",
    "JobEventMetricType",
    "JobEventProgress",
    "JobEventProgressType",
    "JobEventQueued",
    "JobEventQueuedType",
    "JobEventRetryScheduled",
    "JobEventRetryScheduledType",
    "JobEventRunning",
    "JobEventRunningType",
    "JobEventSucceeded",
    "JobEventSucceededType",
    "JobEventTrial",
    "JobEventTrialType",
    "JobKind",
    "JobMetricsDto",
    "JobMetricsDtoSeries",
    "JobPage",
    "JobState",
    "LayerError",
    "LayerReport",
    "LeftInFloat",
    "ListJobsKind",
    "LossType0",
    "LossType1",
    "LossType2",
    "LossType3",
    "LossType4",
    "LrDecayType0",
    "LrDecayType0Kind",
    "LrDecayType1",
    "LrDecayType1Kind",
    "LrDecayType2",
    "LrDecayType2Kind",
    "LrSchedule",
    "MethodSpec",
    "MetricData",
    "MetricsType0",
    "MetricsType0Task",
    "MetricsType1",
    "MetricsType1Task",
    "ModelDto",
    "ModelDtoArchitectureType0",
    "ModelDtoDtypeHistogram",
    "ModelDtoMetadata",
    "ModelEvaluationClassification",
    "ModelEvaluationClassificationTask",
    "ModelEvaluationRegression",
    "ModelEvaluationRegressionTask",
    "ModelFileDto",
    "ModelFilesDto",
    "ModelLayout",
    "ModelPage",
    "ModelTotals",
    "ModelUploadForm",
    "ModuleGroup",
    "Monitor",
    "Norm",
    "OnnxExport",
    "OnnxOpsSpec",
    "OptimizerConfigType0",
    "OptimizerConfigType0Kind",
    "OptimizerConfigType1",
    "OptimizerConfigType1Kind",
    "OptimizerConfigType2",
    "OptimizerConfigType2Kind",
    "OptimizerConfigType3",
    "OptimizerConfigType3Kind",
    "OutputDtypeSpec",
    "OutputSpec",
    "PassSummary",
    "Problem",
    "ProgressData",
    "PruneFinetuneSpec",
    "PruneJob",
    "PruneJobKind",
    "PruneJobRequest",
    "PruneMethod",
    "PruneResultQualityFields",
    "PruneResultTextQualityFields",
    "PruneResultUnrated",
    "PruneSpec",
    "PrunerType0",
    "PrunerType0Type",
    "PrunerType1",
    "PrunerType1Type",
    "PrunerType2",
    "PrunerType2Type",
    "QatReport",
    "QualityChange",
    "QualityFields",
    "QuantizeJob",
    "QuantizeJobKind",
    "QuantizeJobRequest",
    "QuantizeResultEvalFields",
    "QuantizeResultUnrated",
    "QuantizeSpec",
    "QueuedData",
    "Recommendation",
    "ReferenceComparison",
    "RetryScheduledData",
    "RuleFields",
    "RunStats",
    "RunningData",
    "SamplerType0",
    "SamplerType0Type",
    "SamplerType1",
    "SamplerType1Type",
    "SamplerType2",
    "SamplerType2Type",
    "ScaleDtypeSpec",
    "SchemeReport",
    "SchemeSpec",
    "Scope",
    "SeriesPoint",
    "SkippedTensor",
    "Sparsity",
    "StudyResult",
    "StudyResultBestParams",
    "StudyResultPrunerType1",
    "StudyResultPrunerType1Type",
    "StudyResultPrunerType2",
    "StudyResultPrunerType2Type",
    "StudyResultPrunerType3",
    "StudyResultPrunerType3Type",
    "StudyResultSamplerType1",
    "StudyResultSamplerType1Type",
    "StudyResultSamplerType2",
    "StudyResultSamplerType2Type",
    "StudyResultSamplerType3",
    "StudyResultSamplerType3Type",
    "SucceededData",
    "SummaryMetricsType0",
    "SummaryMetricsType1",
    "TaskKind",
    "TenantDto",
    "TenantQuotas",
    "TenantUsageDto",
    "TensorAnalysis",
    "TensorDto",
    "TensorPruned",
    "TensorReport",
    "TensorRole",
    "TensorStats",
    "TextClassification",
    "TextEvaluation",
    "TextPooling",
    "TextQualityChange",
    "TextQualityFields",
    "TpeConfig",
    "TrainBase",
    "TrainBaseLossType1",
    "TrainBaseLossType2",
    "TrainBaseLossType3",
    "TrainBaseLossType4",
    "TrainBaseLossType5",
    "TrainJob",
    "TrainJobKind",
    "TrainJobRequest",
    "TrainSpec",
    "TrainSpecLossType1",
    "TrainSpecLossType2",
    "TrainSpecLossType3",
    "TrainSpecLossType4",
    "TrainSpecLossType5",
    "TrialData",
    "TrialDataParams",
    "TrialDto",
    "TrialDtoParams",
    "TrialJob",
    "TrialJobKind",
    "TrialJobSpec",
    "TrialPage",
    "TrialResult",
    "TrialResultParams",
    "TuneJob",
    "TuneJobKind",
    "TuneJobRequest",
    "TuneMetric",
    "TuneSpec",
    "TuneSpecPrunerType0",
    "TuneSpecPrunerType1",
    "TuneSpecPrunerType1Type",
    "TuneSpecPrunerType2",
    "TuneSpecPrunerType2Type",
    "TuneSpecPrunerType3",
    "TuneSpecPrunerType3Type",
    "TuneSpecSamplerType0",
    "TuneSpecSamplerType1",
    "TuneSpecSamplerType1Type",
    "TuneSpecSamplerType2",
    "TuneSpecSamplerType2Type",
    "TuneSpecSamplerType3",
    "TuneSpecSamplerType3Type",
    "TuneSpecSearchSpace",
    "UpdateWebhookRequest",
    "UploadDatasetTask",
    "ValidationSpec",
    "WebhookDto",
    "WebhookPage",
    "WebhookPayload",
    "WebhookWithSecret",
    "WeightOp",
)
