"""Helpers shared by the course notebooks: environment, data, gradient checks, tests, plots, widgets.

Importing this package is cheap (NumPy only): torch, matplotlib, ipywidgets,
scikit-learn and tqdm are imported by the functions that need them.
"""

from .checks import (
    check_choice,
    check_close,
    check_dtype_kind,
    check_equal,
    check_finite,
    check_shape,
    check_type,
)
from .data import (
    DATASETS,
    ChecksumError,
    DatasetNotFoundError,
    DatasetSpec,
    RemoteFile,
    candidate_dirs,
    data_dir,
    download_file,
    fetch,
    get_spec,
    register,
    sha256_of,
)
from .datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    SPLIT_SEED,
    SPLITS,
    CorruptFileError,
    load_cifar10,
    load_cifar10_images,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_fashion_mnist_images,
    load_images,
    load_iris,
    load_labels,
    load_mnist,
    load_mnist_images,
    read_idx,
    split_indices,
)
from .env import best_device, describe_environment, in_colab, print_environment, seed_everything
from .gradcheck import (
    GradCheckReport,
    check_gradient,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
    sparse_gradient_check,
)
from .loops import best_time, check_vectorised, is_vectorised, lines_stay_flat, python_lines
from .pending import needs_your_code
from .text import CharVocab, NamesDataError, load_names, names_split, next_char_targets
from .toy import line_inputs, line_targets, make_ring, make_spirals, make_three_modes, make_xor
from .viz import plot_decision_regions, plot_line_fit, plot_loss_curve, show_images, show_templates
from .widgets import linear_accuracy, linear_boundary_widget, progress

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # env
    "best_device",
    "in_colab",
    "seed_everything",
    "describe_environment",
    "print_environment",
    # data: locating and verifying files
    "RemoteFile",
    "DatasetSpec",
    "DATASETS",
    "DatasetNotFoundError",
    "ChecksumError",
    "register",
    "get_spec",
    "data_dir",
    "candidate_dirs",
    "sha256_of",
    "download_file",
    "fetch",
    # datasets: loaders
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "CIFAR10_CLASSES",
    "SPLITS",
    "SPLIT_SEED",
    "CorruptFileError",
    "read_idx",
    "split_indices",
    "load_images",
    "load_labels",
    "load_dataset",
    "load_fashion_mnist",
    "load_fashion_mnist_images",
    "load_mnist",
    "load_mnist_images",
    "load_cifar10",
    "load_cifar10_images",
    "load_digits",
    "load_iris",
    # text (06)
    "CharVocab",
    "NamesDataError",
    "load_names",
    "names_split",
    "next_char_targets",
    # toy
    "make_xor",
    "make_ring",
    "make_three_modes",
    "make_spirals",
    "line_inputs",
    "line_targets",
    # gradcheck
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
    "GradCheckReport",
    "check_gradient",
    "sparse_gradient_check",
    # checks
    "check_type",
    "check_shape",
    "check_dtype_kind",
    "check_close",
    "check_equal",
    "check_finite",
    "check_choice",
    # vectorisation, counted in lines of Python rather than seconds
    "python_lines",
    "lines_stay_flat",
    "is_vectorised",
    "check_vectorised",
    "best_time",
    # demo cells waiting for the student's code
    "needs_your_code",
    # viz
    "show_images",
    "show_templates",
    "plot_decision_regions",
    "plot_loss_curve",
    "plot_line_fit",
    # widgets
    "linear_boundary_widget",
    "linear_accuracy",
    "progress",
]
