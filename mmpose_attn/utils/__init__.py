from .init_errors import name_class_in_init_errors, name_classes_in_init_errors

__all__ = ['name_class_in_init_errors', 'name_classes_in_init_errors']
