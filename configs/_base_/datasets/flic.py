# FLIC (Frames Labeled In Cinema, Sapp & Taskar, CVPR 2013): the 11 joints
# labelled in ``examples.mat`` (of its 29 ``coords`` slots), in slot order:
# lsho=1, lelb=2, lwri=3, rsho=4, relb=5, rwri=6, lhip=7, rhip=10, leye=13,
# reye=14, nose=17 (1-based MATLAB indices).
# sigmas: COCO's per-joint OKS sigmas (all 11 joints exist in COCO).
# joint_weights: MMPose's MPII weights for the matching joints (1.5 wrists,
#   1.2 elbows, 1.0 otherwise).
dataset_info = dict(
    dataset_name='flic',
    paper_info=dict(
        author='Ben Sapp and Ben Taskar',
        title='MODEC: Multimodal Decomposable Models for Human Pose '
        'Estimation',
        container='IEEE Conference on Computer Vision and '
        'Pattern Recognition (CVPR)',
        year='2013',
        homepage='https://bensapp.github.io/flic-dataset.html',
    ),
    keypoint_info={
        0:
        dict(
            name='left_shoulder',
            id=0,
            color=[0, 255, 0],
            type='upper',
            swap='right_shoulder'),
        1:
        dict(
            name='left_elbow',
            id=1,
            color=[0, 255, 0],
            type='upper',
            swap='right_elbow'),
        2:
        dict(
            name='left_wrist',
            id=2,
            color=[0, 255, 0],
            type='upper',
            swap='right_wrist'),
        3:
        dict(
            name='right_shoulder',
            id=3,
            color=[255, 128, 0],
            type='upper',
            swap='left_shoulder'),
        4:
        dict(
            name='right_elbow',
            id=4,
            color=[255, 128, 0],
            type='upper',
            swap='left_elbow'),
        5:
        dict(
            name='right_wrist',
            id=5,
            color=[255, 128, 0],
            type='upper',
            swap='left_wrist'),
        6:
        dict(
            name='left_hip',
            id=6,
            color=[0, 255, 0],
            type='lower',
            swap='right_hip'),
        7:
        dict(
            name='right_hip',
            id=7,
            color=[255, 128, 0],
            type='lower',
            swap='left_hip'),
        8:
        dict(
            name='left_eye',
            id=8,
            color=[51, 153, 255],
            type='upper',
            swap='right_eye'),
        9:
        dict(
            name='right_eye',
            id=9,
            color=[51, 153, 255],
            type='upper',
            swap='left_eye'),
        10:
        dict(name='nose', id=10, color=[51, 153, 255], type='upper', swap=''),
    },
    skeleton_info={
        0:
        dict(link=('left_shoulder', 'left_elbow'), id=0, color=[0, 255, 0]),
        1:
        dict(link=('left_elbow', 'left_wrist'), id=1, color=[0, 255, 0]),
        2:
        dict(
            link=('right_shoulder', 'right_elbow'), id=2, color=[255, 128,
                                                                 0]),
        3:
        dict(link=('right_elbow', 'right_wrist'), id=3, color=[255, 128, 0]),
        4:
        dict(
            link=('left_shoulder', 'right_shoulder'),
            id=4,
            color=[51, 153, 255]),
        5:
        dict(link=('left_shoulder', 'left_hip'), id=5, color=[0, 255, 0]),
        6:
        dict(link=('right_shoulder', 'right_hip'), id=6, color=[255, 128, 0]),
        7:
        dict(link=('left_hip', 'right_hip'), id=7, color=[51, 153, 255]),
        8:
        dict(link=('left_eye', 'right_eye'), id=8, color=[51, 153, 255]),
        9:
        dict(link=('left_eye', 'nose'), id=9, color=[51, 153, 255]),
        10:
        dict(link=('right_eye', 'nose'), id=10, color=[51, 153, 255]),
    },
    joint_weights=[1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1., 1., 1., 1.],
    sigmas=[
        0.079, 0.072, 0.062, 0.079, 0.072, 0.062, 0.107, 0.107, 0.025, 0.025,
        0.026
    ])
