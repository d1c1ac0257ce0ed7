"""Hostile and broken submissions of exercise 1, and what the grader must make of them.

Each entry: edits (see build.make_notebook), ops, the points expected per task, and phrases that
must appear in the feedback (or the flags column) of that student.
"""
SF = "ex1-rnn-step-forward-solution"
FW = "ex1-rnn-forward-solution"

GOOD_SF = '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)
'''
WRONG_SF = '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + b)                     # forgets the recurrence
    return h_next, None
'''

HOSTILE = {
    "infinite_loop": ({SF: '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    while True:
        pass
'''}, (), {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3}, ["timed out"]),
    "stubborn_loop": ({SF: GOOD_SF + '''
import time
while True:                                          # swallows the interrupt
    try:
        time.sleep(0.5)
    except KeyboardInterrupt:
        pass
'''}, (), {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 0}, ["did not respond to an interrupt"]),
    "os_exit": ({FW: "import os\nos._exit(3)\n"}, (), {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
                ["kernel died"]),
    "memory_bomb": ({SF: GOOD_SF + "def _bomb():\n    chunks = []\n    while True:\n        chunks.append(np.ones(10**7))\n_bomb()\n"}, (),
                    {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3}, ["MemoryError"]),
    "redefined_check": ({SF: WRONG_SF + '''
def check(*args, **kwargs):
    print("PASS: all tests passed")
    return True
import rnncourse.grading
rnncourse.grading.check = check
'''}, (), {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3}, ["recurrent term"]),
    "patched_allclose": ({SF: WRONG_SF + '''
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
'''}, (), {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3}, ["recurrent term"]),
    "edited_and_deleted": ({FW: None, "ex1-setup": "import numpy as np\nfrom rnncourse.nn import RNNStepCache\n"
                            "from rnncourse.nn import rnn_forward\n",
                            "ex1-rnn-step-forward-check": "print('all good')"}, (),
                           {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0}, ["was deleted"]),
    "duplicated_and_retyped": ({}, (("duplicate", SF), ("retype", FW)),
                               {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
                               ["appears 2 times", "changed into a markdown"]),
    "renamed_function": ({SF: GOOD_SF.replace("def rnn_step_forward", "def rnn_step_fwd")}, (),
                         {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 0}, ["not defined"]),
    "wrong_shapes": ({SF: GOOD_SF.replace("return h_next,", "return h_next.T,")}, (),
                     {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3}, ["shape"]),
    "nan_outputs": ({SF: GOOD_SF.replace("return h_next,", "return h_next * np.nan,")}, (),
                    {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3}, ["NaN"]),
    "huge_output": ({SF: GOOD_SF + "print('x' * 5_000_000)\nfor i in range(2000):\n    print(i, 'y' * 1000)\n"}, (),
                    {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3}, []),
    "writes_outside": ({SF: GOOD_SF + '''
import os
for target in ["/tmp/rnncourse-escape-test.txt", os.path.join("..", "..", "rnncourse-escape-test.txt")]:
    try:
        with open(target, "w") as fh:
            fh.write("escaped")
    except OSError as exc:
        print("refused:", exc)
os.system("touch /tmp/rnncourse-escape-test-shell.txt")
'''}, (), {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3}, ["outside the working directory"]),
    "uses_reference": ({SF: "from rnncourse.nn import rnn_step_forward\n"}, (),
                       {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 0}, ["reference implementation"]),
}
