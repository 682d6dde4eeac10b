"""AppleWorld: a small 2-D world in the spirit of ConvNetJS's rldemo (the lecture's deep-RL demo).

An agent walks around a walled square with apples (good) and poison (bad) in it. It sees only through its eyes:
rays fanned out in front of it, each reporting how near the first thing it hits is, and whether that is a wall,
an apple or a poison. Eating (touching) an apple gives +1, poison −1; whatever is eaten reappears elsewhere.
There is no end: ``gymnasium.make("thetas/AppleWorld-v0")`` cuts an episode after 1,000 steps (truncated).

    import gymnasium, thetas.rl.envs
    env = gymnasium.make("thetas/AppleWorld-v0", render_mode="rgb_array")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(0)     # forward
    frame = env.render()                                       # (240, 240, 3) uint8

- Observation: ``Box(0, 1, (3 · n_eyes + 1,), float32)``, 28 numbers: for each eye (wall, apple, poison), the
  proximity 1 − d / eye_range of the nearest thing on its ray, in the slot of its kind (the other two 0; all
  three 0 when nothing is in range); last, a touch sensor: 1 if the last step hit a wall.
- Actions: ``Discrete(3)``: 0 forward (a step of ``speed``); 1 turn left, 2 turn right (rotate by ``turn``, then
  half a step forward).
- Reward: +1 for each apple eaten, −1 for each poison.
- Start: the agent at a random free spot with a random heading; apples and poison at random free spots.
- Episode end: never terminated; truncated by the registered time limit (1,000 steps).

Eyes are ordered from the agent's right to its left; with an odd ``n_eyes`` the middle eye looks straight ahead.
All eyes are cast at once: rays against wall segments and against circles, as NumPy arrays (eyes × objects).
"""
import math

import numpy as np

try:
    import gymnasium as gym
    from gymnasium import spaces
except ImportError as e:  # pragma: no cover - the rl extra is missing
    raise ImportError('thetas.rl.envs needs Gymnasium: pip install "thetas[rl]"') from e

__all__ = ["AppleWorld", "cast_rays", "ENV_ID"]

ENV_ID = "thetas/AppleWorld-v0"
WALL, APPLE, POISON = 0, 1, 2
_COLORS = {"background": (245, 245, 240), "wall": (60, 60, 60), APPLE: (40, 170, 60), POISON: (210, 50, 50),
           "agent": (50, 90, 200), "ray": (170, 170, 170)}


def _cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def cast_rays(origin, directions, segments, centers, radius, max_dist):
    """Distance along each ray to the nearest wall segment and to the nearest circle of each group.

    Args:
        origin: (2,) the rays' common start.
        directions: (E, 2) unit vectors.
        segments: (S, 2, 2) wall segments [start, end].
        centers: list of (K_j, 2) arrays, one per kind of circle.
        radius: the circles' radius.
        max_dist: rays stop here.
    Returns: (E, 1 + len(centers)) distances, ``inf`` where the ray hits nothing of that kind within max_dist.
    """
    E = len(directions)
    out = np.full((E, 1 + len(centers)), np.inf)
    # ray o + t d meets segment a + u (b − a) where t = ((a − o) × e) / (d × e), u = ((a − o) × d) / (d × e)
    a, e = segments[:, 0], segments[:, 1] - segments[:, 0]                  # (S, 2)
    d = directions[:, None, :]                                              # (E, 1, 2)
    denom = _cross(d, e[None])                                              # (E, S)
    ao = (a - origin)[None]                                                 # (1, S, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _cross(ao, e[None]) / denom
        u = _cross(ao, d) / denom
    t = np.where((denom != 0) & (u >= 0) & (u <= 1) & (t >= 0) & (t <= max_dist), t, np.inf)
    out[:, 0] = t.min(axis=1) if t.shape[1] else np.inf
    # ray meets circle |o + t d − c| = r at t = −b − √(b² − |m|² + r²), m = o − c, b = m · d
    for j, c in enumerate(centers, start=1):
        if len(c) == 0:
            continue
        m = origin - c                                                      # (K, 2)
        b = directions @ m.T                                                # (E, K)
        cc = (m * m).sum(axis=1) - radius * radius                          # (K,), < 0: o inside the circle
        disc = b * b - cc
        with np.errstate(invalid="ignore"):
            t = -b - np.sqrt(disc)
        t = np.where(cc[None] < 0, 0.0, t)
        t = np.where((disc >= 0) & (t >= 0) & (t <= max_dist), t, np.inf)
        out[:, j] = t.min(axis=1)
    return out


def _segment_distance(p, segments):
    """Distance from point(s) p (..., 2) to each segment (S, 2, 2): (..., S)."""
    a, b = segments[:, 0], segments[:, 1]
    ab = b - a
    ap = p[..., None, :] - a                                                # (..., S, 2)
    u = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    return np.linalg.norm(ap - u[..., None] * ab, axis=-1)


FOV, TURN = math.radians(120), math.radians(15)   # AppleWorld's default fan of eyes and turn, in radians


class AppleWorld(gym.Env):
    """A walled square with apples and poison, seen through eye rays; see the module docstring for the spaces.

    Args:
        n_eyes: how many rays (odd: the middle one looks straight ahead).
        fov: their fan, in radians.
        eye_range: how far an eye sees.
        n_apples: apples kept in the world.
        n_poison: poison items kept in the world.
        size: side of the square world.
        walls: extra interior wall segments ((x0, y0), (x1, y1)); default two.
        speed: distance of one step forward.
        turn: radians of one turn.
        render_mode: None or "rgb_array".
        pixels_per_unit: scale of the rendered frame.
    """
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
    action_names = ("forward", "turn left", "turn right")

    def __init__(self, n_eyes=9, fov=FOV, eye_range=6.0, n_apples=12, n_poison=12, size=20.0,
                 walls=None, speed=0.6, turn=TURN, agent_radius=0.5, item_radius=0.6,
                 render_mode=None, pixels_per_unit=12):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"AppleWorld: render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.n_eyes, self.fov, self.eye_range = int(n_eyes), float(fov), float(eye_range)
        self.n_apples, self.n_poison, self.size = int(n_apples), int(n_poison), float(size)
        self.speed, self.turn = float(speed), float(turn)
        self.agent_radius, self.item_radius = float(agent_radius), float(item_radius)
        self.render_mode, self.pixels_per_unit = render_mode, int(pixels_per_unit)
        s = self.size
        border = [((0, 0), (s, 0)), ((s, 0), (s, s)), ((s, s), (0, s)), ((0, s), (0, 0))]
        if walls is None:   # two interior walls, as rldemo's maze-like box
            walls = [((0.25 * s, 0.35 * s), (0.25 * s, 0.7 * s)), ((0.55 * s, 0.7 * s), (0.8 * s, 0.7 * s))]
        self.walls = np.array(border + [tuple(map(tuple, w)) for w in walls], dtype=np.float64)  # (S, 2, 2)
        offsets = (np.linspace(-self.fov / 2, self.fov / 2, self.n_eyes) if self.n_eyes > 1 else np.zeros(1))
        self.eye_offsets = offsets                                         # right (−) to left (+)
        self.observation_space = spaces.Box(0.0, 1.0, (3 * self.n_eyes + 1,), np.float32)
        self.action_space = spaces.Discrete(3)
        self.pos, self.heading, self.bumped = np.zeros(2), 0.0, False
        self.apples, self.poison = np.zeros((0, 2)), np.zeros((0, 2))

    # ------------------------------------------------------------------ the world
    def _free_spots(self, n, clearance):
        """n random points at least ``clearance`` from every wall and from the agent."""
        out = np.empty((0, 2))
        while len(out) < n:
            p = self.np_random.uniform(clearance, self.size - clearance, (4 * (n - len(out)) + 4, 2))
            ok = (_segment_distance(p, self.walls).min(axis=1) >= clearance) & \
                 (np.linalg.norm(p - self.pos, axis=1) >= self.agent_radius + 2 * self.item_radius)
            out = np.concatenate([out, p[ok]])
        return out[:n]

    def _eye_directions(self):
        angles = self.heading + self.eye_offsets
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)          # (E, 2)

    def _distances(self):
        return cast_rays(self.pos, self._eye_directions(), self.walls, [self.apples, self.poison], self.item_radius,
                         self.eye_range)                                    # (E, 3) wall, apple, poison

    def _observation(self):
        dist = self._distances()
        kind = dist.argmin(axis=1)                                          # what each eye sees first
        nearest = dist[np.arange(self.n_eyes), kind]
        obs = np.zeros(3 * self.n_eyes + 1, np.float32)
        eyes = obs[:-1].reshape(self.n_eyes, 3)                             # a view: (eye, kind)
        seen = np.isfinite(nearest)
        eyes[seen, kind[seen]] = 1.0 - nearest[seen] / self.eye_range
        obs[-1] = self.bumped
        return obs

    # ------------------------------------------------------------------ the Gymnasium API
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = np.full(2, -1e9)   # no agent yet: items may go anywhere
        self.pos = self._free_spots(1, self.agent_radius + 0.1)[0]
        self.heading = float(self.np_random.uniform(-math.pi, math.pi))
        self.bumped = False
        self.apples = self._free_spots(self.n_apples, self.item_radius + 0.1)
        self.poison = self._free_spots(self.n_poison, self.item_radius + 0.1)
        self.eaten = {"apples": 0, "poison": 0}
        return self._observation(), dict(self.eaten)

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"AppleWorld: invalid action {action!r}; actions are 0 forward, 1 left, 2 right")
        action = int(action)
        # forward: a full step; a turn: rotate, then half a step (as wheels do; an agent that hesitates between
        # left and right still moves on instead of dithering on the spot forever)
        self.heading += (0.0, self.turn, -self.turn)[action]
        self.heading = (self.heading + math.pi) % (2 * math.pi) - math.pi
        step = self.speed * (1.0 if action == 0 else 0.5) * np.array([math.cos(self.heading), math.sin(self.heading)])
        # a wall in the way: slide along it (keep the x or the y part of the step), else stay
        moves = np.array([step, (step[0], 0.0), (0.0, step[1])]) + self.pos
        free = _segment_distance(moves, self.walls).min(axis=1) >= self.agent_radius
        self.bumped = not free[0]
        if free.any():
            self.pos = moves[int(np.argmax(free))]
        reward = 0.0
        reach = self.agent_radius + self.item_radius
        for name, items, value in (("apples", self.apples, 1.0), ("poison", self.poison, -1.0)):
            eaten = np.linalg.norm(items - self.pos, axis=1) < reach
            if eaten.any():
                k = int(eaten.sum())
                reward += value * k
                self.eaten[name] += k
                items[eaten] = self._free_spots(k, self.item_radius + 0.1)
        return self._observation(), reward, False, False, dict(self.eaten)

    # ------------------------------------------------------------------ pictures
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self.frame()

    def frame(self, rays=True):
        """The world as an (H, W, 3) uint8 image: walls, apples (green), poison (red), the agent (blue) and,
        with ``rays``, each eye's ray up to what it sees."""
        ppu = self.pixels_per_unit
        n = int(round(self.size * ppu))
        # pixel centres in world units; row 0 is the top (y = size)
        xs = (np.arange(n) + 0.5) / ppu
        P = np.stack(np.meshgrid(xs, xs[::-1]), axis=-1)                    # (n, n, 2)
        img = np.empty((n, n, 3), np.uint8)
        img[:] = _COLORS["background"]
        half_px = 0.75 / ppu
        if rays:
            dist = np.minimum(self._distances().min(axis=1), self.eye_range)
            ends = self.pos + self._eye_directions() * dist[:, None]
            segs = np.stack([np.broadcast_to(self.pos, ends.shape), ends], axis=1)
            img[_segment_distance(P, segs).min(axis=-1) < half_px * 0.7] = _COLORS["ray"]
        for kind, items in ((APPLE, self.apples), (POISON, self.poison)):
            if len(items):
                d2 = ((P[:, :, None, :] - items) ** 2).sum(-1).min(-1)
                img[d2 < self.item_radius ** 2] = _COLORS[kind]
        img[((P - self.pos) ** 2).sum(-1) < self.agent_radius ** 2] = _COLORS["agent"]
        nose = np.array([[self.pos, self.pos + 1.4 * self.agent_radius * np.array(
            [math.cos(self.heading), math.sin(self.heading)])]])
        img[_segment_distance(P, nose)[..., 0] < 1.5 / ppu] = _COLORS["agent"]
        img[_segment_distance(P, self.walls).min(axis=-1) < 2 * half_px] = _COLORS["wall"]
        return img


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="thetas.rl.envs:AppleWorld", max_episode_steps=1000)
