from accounts import services
from accounts.management.commands._account_command import AccountCommand


class Command(AccountCommand):
    help = "Create or update a national administrator (Helsedirektoratet): all regions, manages users."

    def create(self, *, username, email, reset_password, **options):
        return services.add_national_admin(username=username, email=email, reset_password=reset_password)
