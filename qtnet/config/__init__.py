"""Typed configs: frozen dataclass schemas, YAML files of overrides, `--set` overrides."""

from qtnet.config.load import (ConfigError, dump_yaml, field, from_dict, load, merge,
                               parse_overrides, read_yaml, section, to_dict)
from qtnet.config.schema import (RESUME_SENSITIVE, BackendConfig, CheckpointConfig,
                                 CommReportConfig, Config, DataConfig, MeteringConfig,
                                 ModelConfig, OptimizerConfig, ScheduleConfig, TrainingConfig)

__all__ = [
    "RESUME_SENSITIVE", "BackendConfig", "CheckpointConfig", "CommReportConfig", "Config",
    "ConfigError", "DataConfig", "MeteringConfig", "ModelConfig", "OptimizerConfig",
    "ScheduleConfig", "TrainingConfig", "dump_yaml", "field", "from_dict", "load", "merge",
    "parse_overrides", "read_yaml", "section", "to_dict",
]
