"""hybridal: pool-based active learning for text classification with measured training strategies."""
from .active_learning import ActiveLearning, trial_columns
from .config import ExperimentConfig
from .errors import ConfigError, DataError
from .records import RECORD_FIELDS, RoundRecord

__version__ = "0.1.0"
__all__ = ["ActiveLearning", "ExperimentConfig", "ConfigError", "DataError", "RoundRecord", "RECORD_FIELDS", "trial_columns", "__version__"]
