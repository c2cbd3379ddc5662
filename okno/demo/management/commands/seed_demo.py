from django.conf import settings
from django.core.management.base import BaseCommand

from okno.demo import company as demo


class Command(BaseCommand):
    help = "Seeds an empty database with a demo company and its customers; does nothing the second time."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=20_000, help="how many cards (default 20,000)")
        parser.add_argument("--duplicates", type=float, default=0.03, help="share of duplicate cards (0.03)")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for the same data every time")
        parser.add_argument("--password", default=demo.DEMO_PASSWORD, help="password of every demo user")

    def handle(self, *args, contacts: int, duplicates: float, seed: int | None, password: str, **options):
        verbose = options["verbosity"] > 1
        report = demo.demo_seed(
            contacts=contacts, seed=seed, duplicate_share=duplicates, password=password,
            progress=(lambda msg: self.stderr.write(f"  {msg}")) if verbose else None,
        )
        url = settings.SITE_URL
        if not report.seeded:
            self.stdout.write("The database already has users: demo data was not seeded again.")
            if demo.demo_admin_password_works(password):
                self.stdout.write(f"Log in at {url} as {demo.DEMO_ADMIN} / {password}")
            else:
                self.stdout.write(f"Log in at {url} with your own account (manage.py createsuperuser makes one).")
            return
        self.stdout.write(
            f"Demo data seeded in {report.seconds:.1f} s: {report.users} people in {report.departments} "
            f"departments, {report.contacts} contacts ({len(report.duplicates)} of them duplicates), "
            f"{report.notes} notes."
        )
        if report.deals is not None and report.deals.deals:
            d = report.deals
            self.stdout.write(
                f"Deals: {d.deals} ({d.store} orders of the online store, {d.b2b} B2B), {d.overdue} overdue, "
                f"{d.leads} leads, {d.robots} robots; the worker runs today's deadlines live.")
        if report.history is not None and report.history.customers:
            h = report.history
            self.stdout.write(
                f"History of the past six weeks on {h.customers} cards: {h.calls} calls ({h.recordings} recorded), "
                f"{h.chats} Jivo chats, {h.telegram} Telegram threads, {h.emails} e-mail threads, {h.forms} web forms.")
            if report.year is not None and report.year.calls:
                self.stdout.write(f"And the year before: {report.year.calls} calls and {report.year.chats} chats "
                                  f"(a bad week for missed calls from {report.year.bad_week}) for the reports.")
            if h.showcase:
                self.stdout.write(f"A customer of every channel: {url.rstrip('/')}/contacts/{h.showcase}/")
        self.stdout.write(f"Log in at {url} as {demo.DEMO_ADMIN} / {password}")
        self.stdout.write(f"Every employee has the password {password}; for example:")
        for user in report.samples[1:]:
            dept = user.department.name if user.department_id else ""
            self.stdout.write(f"  {user.username:<18} {user.get_role_display():<20} {dept}")
        if report.deals is not None and report.deals.showcase:
            self.stdout.write(f"Overdue orders on the board and in “My day”: log in as {report.deals.showcase}")
