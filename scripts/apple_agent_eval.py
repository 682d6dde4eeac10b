"""Does the lab's trained AppleWorld agent keep eating? Apples per 1,000 steps in fresh worlds, played as the page
plays it (``thetas.lab.apple.eat_rate``: a session after "Load a trained agent", ε = 0.05).

    python scripts/apple_agent_eval.py AGENT.safetensors [--worlds 5] [--steps 20000] [--epsilon E] [--json]

AGENT: the lab's cached ``dqn-appleworld-2.safetensors`` (``python -m thetas.lab.apple OUT`` trains one as
the lab does), or a file saved on the page. tests/test_lab_apple.py asks the same of the trained agent: at least 20
apples per 1,000 steps in each of worlds 1000-1004 over 5,000 steps. Reported per world: apples and poison per
1,000 steps, the worst 1,000 steps, and the longest run of steps without an apple (an agent sliding along a wall
shows as one long run).
"""
import argparse
import json

from thetas.lab.apple import eat_rate


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("agent")
    p.add_argument("--worlds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--epsilon", type=float, default=None, help="default: the page's (0.05)")
    p.add_argument("--first-seed", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.worlds):
        r = eat_rate(args.agent, seed, args.steps, args.epsilon)
        rows.append(r)
        if not args.json:
            print(f"world {seed}: {r['apples_per_1000']} apples and {r['poison_per_1000']} poison per 1,000 steps; "
                  f"worst 1,000 steps {r['worst_1000']} apples; longest run without an apple "
                  f"{r['longest_without_apple']} steps (ε = {r['epsilon']})", flush=True)
    print(json.dumps({"worlds": rows, "min_apples_per_1000": min(r["apples_per_1000"] for r in rows)}))


if __name__ == "__main__":
    main()
