"""The names of the metrics that keeneye exposes, as the generated rules and dashboards use them.

Two sources: the SDK inside a model server (``keeneye.sdk.metrics``: counters and histograms,
exact for every prediction) and the keeneye server's ``/metrics`` (the analysis results of the
latest complete window, as gauges). Every series carries ``model`` and ``version`` labels.
A test checks these names against what the real processes expose.
"""

from __future__ import annotations

# -- exposed by keeneye.Monitor in the model process --------------------------------------
PREDICTIONS = "keeneye_predictions_total"
LATENCY = "keeneye_prediction_latency_seconds"
LATENCY_BUCKET = f"{LATENCY}_bucket"
ERRORS = "keeneye_prediction_errors_total"  # label: exception
PREDICTION_VALUE_BUCKET = "keeneye_prediction_value_bucket"
PREDICTED_CLASS = "keeneye_predicted_class_total"  # label: class
CONFIDENCE_BUCKET = "keeneye_prediction_confidence_bucket"
NONFINITE = "keeneye_nonfinite_predictions_total"
MODEL_INFO = "keeneye_model_info"
SDK_QUEUE = "keeneye_sdk_queue_events"
SDK_SENT = "keeneye_sdk_sent_events_total"
SDK_DROPPED = "keeneye_sdk_dropped_events_total"  # label: reason

# -- exposed by `keeneye server` (latest complete window of the analysis) -----------------
FEATURE_DRIFT_SCORE = "keeneye_feature_drift_score"  # labels: feature, method
FEATURE_DRIFT_PVALUE = "keeneye_feature_drift_pvalue"
FEATURE_DRIFTED = "keeneye_feature_drifted"
DATASET_DRIFT_SHARE = "keeneye_dataset_drift_share"
FEATURE_MISSING = "keeneye_feature_missing_ratio"
#: The baseline's missing share of a feature; not exported by the server yet, so the missing-
#: values rule counts it as 0 while it is absent (as keeneye's own rule does without a baseline).
FEATURE_BASELINE_MISSING = "keeneye_feature_baseline_missing_ratio"
FEATURE_OUT_OF_RANGE = "keeneye_feature_out_of_range_ratio"
TRAFFIC_CHANGE = "keeneye_traffic_change_ratio"  # labels: window, compared_to
PERFORMANCE = "keeneye_model_performance"  # label: metric
PREDICTION_BIAS = "keeneye_prediction_bias"
#: What keeneye's bias rule compares (the share gap, or the mean error in label standard
#: deviations for a regressor); not exported by the server yet, so rules fall back to the raw
#: bias (identical for classifiers) while it is absent.
PREDICTION_BIAS_NORMALIZED = "keeneye_prediction_bias_normalized"
LABEL_COVERAGE = "keeneye_label_coverage_ratio"
#: Events and labels of the window a result describes, and the bias in standard errors: the
#: guards keeneye's own rules apply (``min_events``, ``min_labels``, ``prediction_bias_min_z``).
WINDOW_EVENTS = "keeneye_window_events"
WINDOW_LABELS = "keeneye_window_labels"
PREDICTION_BIAS_Z = "keeneye_prediction_bias_z"
#: The outlier share's decision (1/0) and the clients flagged for probe bursts (docs/privacy.md).
OUTLIER_SHARE_ALERT = "keeneye_outlier_share_alert"
PROBE_BURST_CLIENTS = "keeneye_probe_burst_clients"
ESTIMATED_PERFORMANCE = "keeneye_estimated_performance"  # labels: metric, method
ESTIMATED_PERFORMANCE_LIMIT = "keeneye_estimated_performance_limit"
MULTIVARIATE_DRIFTED = "keeneye_multivariate_drifted"  # label: method
ANALYSIS_LAST_RUN = "keeneye_analysis_last_run_timestamp_seconds"

#: Scrape job names in the generated prometheus.yml (the target-down rule selects on them).
SERVER_JOB = "keeneye"
MODELS_JOB = "keeneye-models"
