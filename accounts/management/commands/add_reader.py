from accounts import services
from accounts.management.commands._account_command import AccountCommand


class Command(AccountCommand):
    help = "Create or update a national reader (FHI, Helsedirektoratet): sees numbers for authorities only."

    def create(self, *, username, email, reset_password, **options):
        return services.add_reader(username=username, email=email, reset_password=reset_password)
