from accounts import services
from accounts.management.commands._account_command import AccountCommand


class Command(AccountCommand):
    help = "Create or update an editor for one county governor office (OFFICE_CODE as in statsforvaltere.csv)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("office_code", help="For example trondelag or vestland")

    def create(self, *, username, office_code, email, reset_password, **options):
        return services.add_editor(
            username=username, office_code=office_code, email=email, reset_password=reset_password
        )
