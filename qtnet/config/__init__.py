"""Typed configs: frozen dataclass schemas, YAML files of overrides, `--set` overrides."""

from qtnet.config.choice import register_section, section_class, section_types
from qtnet.config.errors import ConfigError
from qtnet.config.load import (dump_yaml, field, from_dict, load, merge, parse_overrides,
                               read_yaml, section, to_dict)
from qtnet.config.schema import (RESUME_SENSITIVE, BackendConfig, CheckpointConfig,
                                 CircuitConfig, CommReportConfig, CompilationConfig, Config,
                                 DecisionConfig, GradientDiagnosticsConfig, MeteringConfig,
                                 OptimizerConfig, ScheduleConfig, TrainingConfig)
from qtnet.config.stored import read_run_config

__all__ = [
    "RESUME_SENSITIVE", "BackendConfig", "CheckpointConfig", "CircuitConfig",
    "CommReportConfig", "CompilationConfig", "Config", "ConfigError", "DecisionConfig",
    "GradientDiagnosticsConfig", "MeteringConfig",
    "OptimizerConfig", "ScheduleConfig", "TrainingConfig", "dump_yaml", "field", "from_dict",
    "load", "merge", "parse_overrides", "read_run_config", "read_yaml", "register_section",
    "section", "section_class", "section_types", "to_dict",
]
