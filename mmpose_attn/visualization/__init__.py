# Each import registers its module into mmpose.registry.
from .sg_maps import draw_sg_maps, predict_sg_maps, save_sg_maps  # noqa: F401
from .sim_weights import draw_sim_weights, save_sim_weights  # noqa: F401
